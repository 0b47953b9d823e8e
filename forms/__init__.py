"""The IAH-PRRT study definition: visits, CRFs, code lists, derivations and edit checks.

Plain Python data and pure functions; imports nothing from ``ecrf`` or ``reports``.
"""
