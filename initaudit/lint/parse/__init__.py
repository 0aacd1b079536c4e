"""Python text to a libcst tree, safely and fast: the guard against nesting that would stall the
parser, a parse without the checks libcst runs on each node it builds, the positions of nodes, a
read-only walk, piecewise reparsing of an edited buffer, the slices of imported files that their
importers need, and the suppression comments of each line.
"""
