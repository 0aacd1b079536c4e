"""Turning findings' edits into new text: fixes applied round after round without overlapping
one another, written back atomically over a file only if it has not changed since it was read,
and the row/column form of an edit that editors apply."""
