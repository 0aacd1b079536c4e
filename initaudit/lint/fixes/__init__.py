"""Turning findings' edits into new text: applying non-overlapping fixes, the row/column form editors
want, and the ``--add-noqa`` comments.
"""
