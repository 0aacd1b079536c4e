"""Opening what ``initaudit model`` names without running untrusted code: argument preflight,
pickle scanning, safetensors, TorchScript weights, Hugging Face directories under a confinement
guard, factories with the example inputs they give, and materialising a factory's model one layer
at a time.
"""
