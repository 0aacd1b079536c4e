"""Which files a run reads and what each is read as: discovery under the gitignore rules, bytes to
text and back, notebooks and documents whose code blocks are Python, and the text prefilter that
skips files that cannot hold a finding. Nothing here parses Python.
"""
