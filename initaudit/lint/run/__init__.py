"""One check run end to end: the engine (source bytes -> diagnostics for one file), the runner over
many files with workers and the result cache, ``--add-noqa``, baselines, and the summary and
fingerprints the reporters read.
"""
