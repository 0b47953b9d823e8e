"""What a study's reports read: plain data a study definition may declare beside its STUDY.

A study package (``forms.iahprrt``) holds a module ``reports`` whose attributes are report
plans (``IMAGING``, ``SAFETY``…) naming the forms and items each report reads. A report
whose plan a study does not declare is not offered for that study. Plans are not part of
the definition's fingerprint: they change what is printed, never what is captured.
"""

from __future__ import annotations
