"""The model of one file that every rule queries: one traversal collects classes, layers, init
calls and data flow; targets resolves what each init writes and which activation follows; the
project links imported files. Rules read the finished model through queries.
"""
