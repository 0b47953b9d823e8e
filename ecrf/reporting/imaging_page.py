"""What the imaging report shows, as text for its templates (the web page and the PDF share
them), its paired plots, and the PDF itself."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from ecrf.audit.services import record_event
from ecrf.db import utcnow
from ecrf.reporting.imaging import (
    GainSummary,
    ImagingReport,
    Lesion,
    LesionGroup,
    SubjectImaging,
    round_ratio,
)
from ecrf.reporting.page import page_context
from reports.plots import PairedLine, paired_plot
from reports.render import render_html, render_pdf

if TYPE_CHECKING:
    from ecrf.auth.models import User

TITLE = "Imaging report"
SCOPE_ALL = "All sites"
SCOPE_SITES = "Sites {codes}"
SCOPE_SITE = "Site {code}"
SCOPE_SUBJECT = "Subject {subject} (site {site})"
ONLY_ON = "only on {scan}"
#: A lesion whose identifier names another place (segment, site) on the other scan.
MOVED = "{location} not the same on both scans"
PERFUSED = {True: "yes", False: "no", None: "—"}
NO_IDENTIFIER = "(no identifier)"
NONE = "—"
RANGE = "{low}–{high}"
OF = "{part} of {whole}"
PLOT_TITLE = "{metric} of the {lesions}: {reference} and {tested}"
PLOT_TITLE_SUBJECT = "{subject}: {metric} of the {lesions}, {reference} and {tested}"
PLOT_DESC = (
    "{count} lesions measured on both scans: {metric} higher after {tested} for {higher},"
    " not higher for {lower}."
)
PLOT_EMPTY = "No lesion measured on both scans yet."
LINE_TITLE = (
    "{subject} {lesion}: {metric} {before} ({reference}), {after} ({tested}), ratio {ratio}"
)
LEGEND_HIGHER = "Higher after {tested} ({count})"
LEGEND_LOWER = "Not higher after {tested} ({count})"
FILE_NAME = "imaging-report-{scope}-{day}.pdf"
#: Heights of the plots (their width is 480): a subject's sits beside its scans' table.
STUDY_PLOT_HEIGHT, SUBJECT_PLOT_HEIGHT = 320, 240


def ratio_text(value: Decimal | None) -> str:
    """A ratio for people: 2 decimals (the value itself is kept exact)."""
    rounded = round_ratio(value)
    return NONE if rounded is None else f"{rounded:.2f}"


def scope_text(report: ImagingReport) -> str:
    if report.subject is not None:
        site = report.site_codes[0] if report.site_codes else ""
        return SCOPE_SUBJECT.format(subject=report.subject, site=site)
    if report.site_codes is None:
        return SCOPE_ALL
    if len(report.site_codes) == 1:
        return SCOPE_SITE.format(code=report.site_codes[0])
    return SCOPE_SITES.format(codes=", ".join(report.site_codes))


def _summary(summary: GainSummary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "median": ratio_text(summary.median),
        "range": (
            RANGE.format(low=ratio_text(summary.low), high=ratio_text(summary.high))
            if summary.low is not None
            else ""
        ),
        "higher": OF.format(part=summary.higher, whole=summary.count) if summary.count else NONE,
    }


def _lines(report: ImagingReport, subjects: tuple[SubjectImaging, ...], tag_subject: bool):
    plan = report.plan
    lines = []
    for subject in subjects:
        for lesion in subject.index.lesions:
            if lesion.gain is None or not lesion.perfused:  # the endpoint's lesions only
                continue
            measure = next(m for m in lesion.measures if m.metric.item == plan.primary_metric)
            lines.append(
                PairedLine(
                    measure.reference.number,
                    measure.tested.number,
                    "higher" if lesion.higher else "lower",
                    f"{subject.identifier} {lesion.identifier}"
                    if tag_subject
                    else lesion.identifier,
                    LINE_TITLE.format(
                        subject=subject.identifier,
                        lesion=lesion.identifier,
                        metric=plan.primary.label,
                        before=measure.reference.text,
                        after=measure.tested.text,
                        reference=plan.reference.label,
                        tested=plan.tested.label,
                        ratio=ratio_text(lesion.gain),
                    ),
                )
            )
    # The fewer lines whose uptake did not rise are drawn last, over the others.
    return sorted(lines, key=lambda line: line.kind == "lower")


def plot(report: ImagingReport, subject: SubjectImaging | None, plot_id: str) -> Markup:
    """The paired plot of the primary metric: every subject's lesions, or one subject's."""
    plan = report.plan
    lines = _lines(report, report.subjects if subject is None else (subject,), subject is None)
    higher = sum(1 for line in lines if line.kind == "higher")
    words = {
        "metric": plan.primary.label,
        "lesions": plan.index_lesions.label.lower(),
        "reference": plan.reference.label,
        "tested": plan.tested.label,
    }
    title = (
        PLOT_TITLE.format(**words)
        if subject is None
        else PLOT_TITLE_SUBJECT.format(subject=subject.identifier, **words)
    )
    return Markup(
        paired_plot(
            lines,
            plot_id=plot_id,
            title=title,
            description=PLOT_DESC.format(
                count=len(lines), higher=higher, lower=len(lines) - higher, **words
            ),
            before_label=plan.reference.label,
            after_label=plan.tested.label,
            axis_label=plan.primary.label,
            legend={
                "higher": LEGEND_HIGHER.format(tested=plan.tested.label, count=higher),
                "lower": LEGEND_LOWER.format(tested=plan.tested.label, count=len(lines) - higher),
            },
            empty_text=PLOT_EMPTY,
            height=SUBJECT_PLOT_HEIGHT if subject is not None else STUDY_PLOT_HEIGHT,
        )
    )


def _lesion_row(report: ImagingReport, lesion: Lesion, location_label: str) -> dict[str, Any]:
    note = ""
    if lesion.moved:
        note = MOVED.format(location=location_label.lower())
    elif not lesion.on_tested:
        note = ONLY_ON.format(scan=report.plan.reference.label)
    elif not lesion.on_reference:
        note = ONLY_ON.format(scan=report.plan.tested.label)
    return {
        "identifier": lesion.identifier or NO_IDENTIFIER,
        "location": lesion.location,
        "perfused": PERFUSED[lesion.perfused],
        "note": note,
        "higher": lesion.higher,
        "cells": [
            (
                m.reference.text or NONE,
                m.tested.text or NONE,
                ratio_text(m.ratio),
            )
            for m in lesion.measures
        ],
    }


def _table(report: ImagingReport, group: LesionGroup) -> dict[str, Any]:
    return {
        "label": group.table.label,
        "location_label": group.table.location_label,
        "metrics": [m.label for m in group.table.metrics],
        "perfusion": group.table.perfused_item is not None,
        "rows": [
            _lesion_row(report, lesion, group.table.location_label) for lesion in group.lesions
        ],
        "unpaired": [
            _lesion_row(report, lesion, group.table.location_label) for lesion in group.unpaired
        ],
    }


def _subject(report: ImagingReport, subject: SubjectImaging, number: int) -> dict[str, Any]:
    scans = [
        {
            "label": info.scan.label,
            "name": info.scan.name,
            "present": info.present,
            "status": info.status,
            "facts": list(info.facts),
        }
        for info in (subject.reference, subject.tested)
    ]
    return {
        "identifier": subject.identifier,
        "site": subject.site_code,
        "anchor": f"subject-{subject.identifier}",
        "scans": scans,
        "fact_labels": [label for label, _ in subject.reference.facts or subject.tested.facts],
        "index": _table(report, subject.index),
        "others": [_table(report, group) for group in subject.others if group.lesions],
        "summary": _summary(subject.summary),
        "outside": _summary(subject.outside),
        "compared": bool(subject.summary.count or subject.outside.count),
        "plot": plot(report, subject, f"plot-s{number}")
        if subject.summary.count or subject.outside.count
        else None,
    }


def imaging_context(
    report: ImagingReport, *, page: dict[str, Any], plot_prefix: str = "plot"
) -> dict[str, Any]:
    """Everything the templates show, as text and markup (``page``: the page context)."""
    plan = report.plan
    unpaired = sum(len(s.index.unpaired) for s in report.subjects)
    return {
        "page": page,
        "lang": "en",
        "scope": scope_text(report),
        "reference": {"label": plan.reference.label, "name": plan.reference.name},
        "tested": {"label": plan.tested.label, "name": plan.tested.name},
        "primary": plan.primary.label,
        "single": report.subject is not None,
        "index_label": plan.index_lesions.label,
        "study": {
            "subjects": len(report.subjects),
            "compared": len(report.compared),
            "unpaired": unpaired,
            "lesions": _summary(report.lesions),
            "patients": _summary(report.patients),
            "outside": _summary(report.outside),
        },
        "perfusion": plan.index_lesions.perfused_item is not None,
        "summary_rows": [
            {
                "identifier": s.identifier,
                "site": s.site_code,
                "anchor": f"subject-{s.identifier}",
                "unpaired": len(s.index.unpaired),
                "outside": _summary(s.outside),
                **_summary(s.summary),
            }
            for s in report.subjects
        ],
        "plot": plot(report, None, f"{plot_prefix}-all") if report.subject is None else None,
        "subjects": [_subject(report, s, n) for n, s in enumerate(report.subjects, 1)],
    }


def web_page_context(report: ImagingReport, *, actor: User) -> dict[str, Any]:
    """The page context of the web page: who and when, with no audit checkpoint written
    (a page view writes nothing; the PDF does)."""
    return {
        "title": TITLE,
        "header_left": "",
        "header_right": scope_text(report),
        "generated_at": utcnow(),
        "generated_by": actor.username,
        "checkpoint": "",
    }


def render_body(context: dict[str, Any]) -> Markup:
    """The report's body (summary, plot, subjects) as the web page embeds it."""
    return Markup(render_html("imaging_body.html", context))


def file_name(report: ImagingReport) -> str:
    scope = report.subject or (
        "-".join(report.site_codes) if report.site_codes is not None else "all-sites"
    )
    return FILE_NAME.format(scope=scope, day=utcnow().strftime("%Y%m%d"))


def imaging_pdf(report: ImagingReport, *, actor: User | None) -> bytes:
    """The report as an archival PDF; writes an audit checkpoint and records the report in
    the audit trail (in the caller's transaction: the caller commits).

    :raises OSError: the checkpoint file cannot be written.
    """
    page = page_context(TITLE, actor=actor, header_right=scope_text(report))
    context = imaging_context(report, page=page)
    # The same data give the same file identifier (the bytes differ by the generation time).
    data = repr((report.site_codes, report.subject, report.subjects)).encode()
    identifier = hashlib.sha256(data).hexdigest()[:32].encode()
    pdf = render_pdf("imaging.html", context, identifier=identifier)
    site_ids = report.site_ids
    record_event(
        "report",
        "report",
        "imaging",
        actor=actor,
        site_id=next(iter(site_ids)) if site_ids is not None and len(site_ids) == 1 else None,
        new=json.dumps(
            {
                "scope": scope_text(report),
                "subjects": [s.identifier for s in report.subjects],
                "checkpoint": page["checkpoint"],
            },
            sort_keys=True,
        ),
    )
    return pdf
