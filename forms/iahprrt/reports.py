"""The IAH-PRRT reports: which forms and items each report reads (forms/reports.py)."""

from __future__ import annotations
