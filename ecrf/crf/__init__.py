"""Data capture: the study definition loaded, forms built from it, and the one write path."""
