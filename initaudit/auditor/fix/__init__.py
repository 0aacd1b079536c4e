"""``--fix``: carrying out the fix plans that rules attach to findings, and writing the fixed
checkpoint atomically in the format asked for.
"""
