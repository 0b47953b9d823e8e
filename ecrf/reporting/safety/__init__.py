"""The safety report: adverse events by grade, seriousness and relationship, laboratory
shift tables around the treatment start, serious events with the clock of their report,
and the listing of every adverse event (``ecrf report safety``, /reports/safety)."""

from ecrf.reporting.safety.report import (
    NO_PLAN,
    SafetyPdf,
    build_safety,
    safety_pdf,
    safety_plan,
)

__all__ = ["NO_PLAN", "SafetyPdf", "build_safety", "safety_pdf", "safety_plan"]
