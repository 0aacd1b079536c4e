"""Empirical statistics of every weight tensor, one tensor at a time: moments, extremes, zeros,
samples, and the two statistics that tell trained weights from an init, streamed so that a large
checkpoint never sits in memory whole.
"""
