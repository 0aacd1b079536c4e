"""The release: a module of its own, so that the code reading it (the cache's key, SARIF's tool
entry, ``--version``) imports nothing above it."""

__version__ = "0.1.0"
