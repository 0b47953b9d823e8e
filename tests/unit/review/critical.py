"""The mini study with critical forms: demographics and adverse events (labs are not)."""

from dataclasses import replace

from tests.definitions.mini import STUDY as MINI

STUDY = replace(MINI, critical_forms=("DM", "AE"))
