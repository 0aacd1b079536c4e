"""The model auditor: open a checkpoint or build a model, measure each tensor, name its scheme,
trace the activations, run the IA2xx rules, probe the signal and write a fixed copy.

``initaudit model`` runs it through ``model_command.py``, ``initaudit.audit(model)`` through
``api.py``. Importing this package does not import torch.
"""
