"""Fuzzing: mutated sources, notebooks and checkpoints fed to ``initaudit check`` and ``model``.

``benchmarks/fuzz.py`` runs a campaign for a time budget; ``test_fuzz.py`` runs a small one.
"""
