"""Reporters: they format results and never analyse."""
