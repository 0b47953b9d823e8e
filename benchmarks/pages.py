"""The pages that grow with the trial, beside a floor: the subject matrix, a subject's page,
the query list and the dashboards, each timed and its SQL statements counted.

The floor is the least such a page could do: a signed-in GET that selects one page of
subjects (identifier, site, status: 50 rows, as the matrix shows) with one plain query and
renders them into a bare template table.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, render_template_string
from flask_login import login_required

from benchmarks.web import Counter, Timings, repeat, signed_in
from ecrf.extensions import db
from ecrf.records.models import FormEntry, Site, Subject, SubjectVisit

FLOOR_URL = "/_bench/floor-page"
_FLOOR_TEMPLATE = """<!doctype html><title>floor</title><table>
{% for identifier, code, status in rows %}<tr><td>{{ identifier }}<td>{{ code }}<td>{{ status }}
{% endfor %}</table>"""


def register_floor(app: Flask) -> None:
    """The floor's view, on the benchmark's app only."""

    @login_required
    def floor_page():
        rows = db.session.execute(
            sa.select(Subject.identifier, Site.code, Subject.status)
            .join(Site, Site.id == Subject.site_id)
            .order_by(Subject.identifier)
            .limit(50)
        ).all()
        return render_template_string(_FLOOR_TEMPLATE, rows=rows)

    app.add_url_rule(FLOOR_URL, "bench_floor_page", floor_page)


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    timings: Timings


def _richest() -> str:
    """The identifier of the subject with the most form entries (its page is the longest)."""
    return db.session.scalar(
        sa.select(Subject.identifier)
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .group_by(Subject.identifier)
        .order_by(sa.func.count(FormEntry.id).desc(), Subject.identifier)
        .limit(1)
    )


def measure_pages(app: Flask, counter: Counter, runs: int) -> tuple[list[Page], Timings]:
    """Each page ``runs`` times as the data manager (every site), then the floor."""
    client = signed_in(app, "datamanager")
    with app.app_context():
        subject = _richest()
        pages_of_50 = -(-db.session.scalar(sa.select(sa.func.count(Subject.id))) // 50)
    urls = [
        ("subject matrix, page 1", "/subjects"),
        ("subject matrix, last page", f"/subjects?page={pages_of_50}"),
        ("subject page", f"/subjects/{subject}"),
        ("query list", "/queries"),
        ("dashboard", "/dashboard"),
        ("site dashboard", "/sites/BDX/dashboard"),
    ]
    measured = []
    for name, url in urls:
        timings = repeat(counter, runs, lambda n, url=url: client.get(url).status_code)
        measured.append(Page(name, url, timings))
    floor = repeat(counter, runs, lambda n: client.get(FLOOR_URL).status_code)
    return measured, floor
