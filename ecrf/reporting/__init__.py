"""The PDF reports' data: plain dicts built from the study, rendered by ``reports/``."""
