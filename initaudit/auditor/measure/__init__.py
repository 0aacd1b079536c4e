"""Empirical statistics of every weight tensor, one tensor at a time: moments, extremes, zeros and
samples, streamed so that a large checkpoint never sits in memory whole.
"""
