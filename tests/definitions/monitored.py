"""The dashboards' mini study with warnings opening automatic queries (as the real trial's
definition does): a grade 3 haemoglobin without an anaemia adverse event (HGB_GRADE3_AE)
opens a query on the haemoglobin when it is saved."""

from __future__ import annotations

from dataclasses import replace

from forms.language import Severity
from tests.definitions import dashboards

STUDY = replace(dashboards.STUDY, oid="MINIMON", query_severities=(Severity.WARN,))
