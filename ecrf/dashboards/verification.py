"""The dashboard's source-verification section: progress per site against the targeted
plan, and the subjects with values still to verify."""

from __future__ import annotations

from dataclasses import dataclass

from ecrf.dashboards.sections import Column, Context, Section
from ecrf.sdv.progress import overview

TEXT = {
    "title": "Source-data verification",
    "required": "Values in the plan",
    "verified": "Verified",
    "pending": "To verify",
    "withdrawn": "Withdrawn by a change",
}


@dataclass(frozen=True)
class PendingRow:
    site_id: int
    subject: str
    sampled: bool
    required: int
    verified: int
    withdrawn: int

    @property
    def pending(self) -> int:
        return self.required - self.verified


def verification(ctx: Context) -> Section:
    """Values the plan asks to verify (critical forms of every subject, the other forms of
    the sampled ones), verified, still to verify, and withdrawn by a later change, per
    site; the subjects with values to verify, most first."""
    sites, subjects = overview(ctx.study, list(ctx.scope.sites), by_form=False)
    rows = [
        PendingRow(
            s.subject.site_id,
            s.subject.identifier,
            s.sampled,
            s.progress.required,
            s.progress.verified,
            s.progress.withdrawn,
        )
        for s in subjects
        if s.progress.pending or s.progress.withdrawn
    ]
    rows.sort(key=lambda r: (-r.withdrawn, -r.pending, r.subject))
    return Section(
        "verification",
        TEXT["title"],
        [
            Column(TEXT["required"], {s.site.id: s.progress.required for s in sites}),
            Column(TEXT["verified"], {s.site.id: s.progress.verified for s in sites}),
            Column(TEXT["pending"], {s.site.id: s.progress.pending for s in sites}),
            Column(TEXT["withdrawn"], {s.site.id: s.progress.withdrawn for s in sites}, alarm=True),
        ],
        rows,
        extra={
            "percentages": {s.site.id: s.percentage for s in sites},
            "percent": {s.site.id: s.progress.percent for s in sites},
        },
    )
