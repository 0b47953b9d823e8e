"""PDF rendering of casebooks: templates, CSS and ``render.py``; imports nothing from ``ecrf``."""
