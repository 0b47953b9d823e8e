"""The safety report assembled: scope, adverse events, shift tables and serious events as
plain data, and its PDF (archival, audited)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.errors import NotFound
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Site, Subject
from ecrf.reporting.page import page_context
from ecrf.reporting.plans import report_plan
from ecrf.reporting.safety.events import (
    by_grade,
    by_relationship,
    by_seriousness,
    listing,
    read_events,
)
from ecrf.reporting.safety.serious import serious_events
from ecrf.reporting.safety.shifts import shift_tables
from forms.reports import SafetyPlan
from reports.render import html_to_pdf, render_html

if TYPE_CHECKING:
    from ecrf.auth.models import User

TITLE = "Safety report"
NO_PLAN = "This study declares no safety report."
#: The page of a report the study does not declare answers like a missing page.
NO_PLAN_PAGE = "There is no such page. This study declares no safety report."
ALL_SITES = "All sites"
TEMPLATE = "safety.html"
#: Audit: action and entity of every report generated (the id names the report).
AUDIT_ACTION, AUDIT_ENTITY, AUDIT_ID = "report", "report", "safety"


def safety_plan() -> SafetyPlan:
    """The running study's safety plan.

    :raises NotFound: the study declares none (the report is not offered).
    """
    plan = report_plan("SAFETY")
    if plan is None:
        raise NotFound(NO_PLAN_PAGE)
    return plan


def _sites(site_ids: Collection[int] | None) -> list[Site]:
    query = sa.select(Site).order_by(Site.code)
    if site_ids is not None:
        query = query.where(Site.id.in_(list(site_ids)))
    return list(db.session.scalars(query))


def _subject_count(site_ids: Collection[int] | None) -> int:
    query = sa.select(sa.func.count()).select_from(Subject)
    if site_ids is not None:
        query = query.where(Subject.site_id.in_(list(site_ids)))
    return db.session.scalar(query) or 0


def build_safety(
    study: LoadedStudy,
    plan: SafetyPlan,
    site_ids: Collection[int] | None,
    *,
    now: datetime,
) -> dict[str, Any]:
    """The report's data for the subjects of ``site_ids`` (None: every site), as plain
    dicts and lists; ``now`` (aware, UTC) is when the clock of unsent reports stops."""
    log = plan.adverse_events
    events = read_events(study, log, site_ids)
    sites = _sites(site_ids)
    return {
        "title": TITLE,
        "generated_at": now,
        "scope": {
            "label": ALL_SITES if site_ids is None else ", ".join(s.code for s in sites),
            "all": site_ids is None,
            "sites": [{"code": s.code, "name": s.name} for s in sites],
            "subjects": _subject_count(site_ids),
            "subjects_with_events": len({e.subject for e in events}),
        },
        "treatment": {"name": plan.treatment.name, "label": plan.treatment.label},
        "events": {
            "count": len(events),
            "causes": [cause.label for cause in log.causes],
            "by_grade": by_grade(study, log, events),
            "by_seriousness": by_seriousness(log, events),
            "by_relationship": by_relationship(study, log, events),
            "listing": listing(events),
        },
        "shifts": shift_tables(study, plan.labs, plan.treatment, site_ids),
        "serious": serious_events(plan.serious_reports, events, site_ids, now=now),
    }


@dataclass(frozen=True)
class SafetyPdf:
    data: bytes
    filename: str
    report: dict[str, Any]


def safety_pdf(
    study: LoadedStudy, plan: SafetyPlan, site_ids: Collection[int] | None, *, actor: User | None
) -> SafetyPdf:
    """Render the report to PDF/A-3b and record it in the audit trail (not committed).

    The page footer names the audit checkpoint written before the data were read; the
    clock of unsent reports stops at the generation time printed beside it.
    :raises OSError: the audit checkpoint file cannot be written.
    """
    page = page_context(TITLE, actor=actor)
    report = build_safety(study, plan, site_ids, now=page["generated_at"])
    codes = [site["code"] for site in report["scope"]["sites"]]
    page["header_right"] = f"{TITLE} · {report['scope']['label']}"
    html = render_html(TEMPLATE, {"page": page, "report": report})
    pdf = html_to_pdf(html, identifier=hashlib.sha256(html.encode()).hexdigest()[:32].encode())
    record_event(
        AUDIT_ACTION,
        AUDIT_ENTITY,
        AUDIT_ID,
        actor=actor,
        site_id=next(iter(site_ids)) if site_ids is not None and len(site_ids) == 1 else None,
        new=json.dumps(
            {
                "sites": codes if site_ids is not None else "all",
                "adverse_events": report["events"]["count"],
                "serious": len(report["serious"]["rows"]),
                "checkpoint": page["checkpoint"],
                "bytes": len(pdf),
            },
            sort_keys=True,
        ),
        definition_version=study.version,
    )
    scope = "all-sites" if site_ids is None else "-".join(codes)
    stamp = page["generated_at"].strftime("%Y%m%dT%H%MZ")
    return SafetyPdf(pdf, f"safety-report-{scope}-{stamp}.pdf", report)
