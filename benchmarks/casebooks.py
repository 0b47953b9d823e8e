"""How long a casebook takes, beside WeasyPrint alone on the same finished HTML (the floor),
and a site's batch (the investigator's copy).

Seeds synthetic patients at one site through the one write path (the demo's generator),
then, on the most documented patient (followed through the whole schedule): reading its
data into the casebook's plain data, rendering the HTML, and the whole casebook (data, HTML,
the subject's ODM file, PDF/A-3b with the attachment), each beside the floor: WeasyPrint
given the finished HTML, as PDF/A-3b, nothing else. Each is the median of a few runs. Then
the site's batch of casebooks, timed once, with the peak resident memory of the run. A
benchmark prints figures; it asserts nothing.

    .venv/bin/python benchmarks/casebooks.py                 # 40 patients at one site, SQLite
    .venv/bin/python benchmarks/casebooks.py --subjects 10 --runs 1
    .venv/bin/python benchmarks/casebooks.py --server postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from benchmarks.support import bench_app, bench_database, reset_peak_rss, status_kib
from ecrf.demo import seed_demo
from ecrf.demo_data import seed_subjects
from ecrf.demo_seeding import demo_actor, demo_decider
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import FormEntry, Site, Subject, SubjectVisit
from ecrf.reporting.casebook import build_casebook
from ecrf.reporting.casebook_jobs import write_site_casebooks
from ecrf.reporting.casebook_pdf import render_casebook
from reports.pages import count_pages
from reports.render import ARCHIVAL, html_to_pdf, render_html

SITE = "BDX"


def median_time(action, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def most_documented() -> Subject:
    forms = sa.func.count(FormEntry.id)
    identifier = db.session.scalar(
        sa.select(Subject.identifier)
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .group_by(Subject.identifier)
        .order_by(forms.desc(), Subject.identifier)
        .limit(1)
    )
    return db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier))


@dataclass(frozen=True)
class CasebookFigures:
    identifier: str
    trail_lines: int
    html_bytes: int
    pdf_bytes: int
    pages: int
    data_s: float
    html_s: float
    whole_s: float
    floor_s: float


def casebook_figures(runs: int) -> CasebookFigures:
    """The most documented patient's casebook, its parts and the floor: medians of ``runs``."""
    study = current_study()
    subject = most_documented()
    data_s, context = median_time(lambda: build_casebook(study, subject, actor=None), runs)
    html_s, html = median_time(lambda: render_html("casebook.html", context), runs)
    floor_s, floor_pdf = median_time(lambda: html_to_pdf(html, variant=ARCHIVAL), runs)
    whole_s, rendered = median_time(lambda: render_casebook(study, subject, actor=None), runs)
    db.session.commit()
    return CasebookFigures(
        subject.identifier,
        len(context["trail"]),
        len(html),
        len(rendered.pdf),
        count_pages(floor_pdf),
        data_s,
        html_s,
        whole_s,
        floor_s,
    )


def measure_one(runs: int) -> None:
    f = casebook_figures(runs)
    print(
        f"casebook of {f.identifier} ({f.trail_lines} trail lines, "
        f"{f.html_bytes / 1024:.0f} kB of HTML, {f.pdf_bytes / 1024:.0f} kB PDF, "
        f"{f.pages} pages), median of {runs}:\n"
        f"  data {f.data_s:6.2f} s | HTML {f.html_s:6.2f} s | whole casebook {f.whole_s:6.2f} s"
        f" | floor (WeasyPrint on the finished HTML) {f.floor_s:6.2f} s"
        f" | ratio {f.whole_s / f.floor_s:4.2f}",
        flush=True,
    )


def measure_batch(workdir: Path) -> None:
    site = db.session.scalar(sa.select(Site).where(Site.code == SITE))
    count = db.session.scalar(
        sa.select(sa.func.count(Subject.id)).where(Subject.site_id == site.id)
    )
    before = status_kib("VmRSS")
    reset_peak_rss()
    started = time.perf_counter()
    write_site_casebooks(workdir / "copy", site_ids={site.id}, actor=None)
    seconds = time.perf_counter() - started
    peak = status_kib("VmHWM")
    size = sum(p.stat().st_size for p in (workdir / "copy").rglob("*.pdf"))
    print(
        f"investigator's copy of {SITE}: {count} casebooks in {seconds:6.1f} s "
        f"({seconds / max(count, 1):5.2f} s each), {size / 2**20:.1f} MiB of PDF, "
        f"resident memory {before / 2**20:.0f} MiB → peak {peak / 2**20:.0f} MiB",
        flush=True,
    )


def run(subjects: int, seed: int, runs: int, url: str, workdir: Path) -> None:
    app = bench_app(url, workdir)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        started = time.perf_counter()
        seed_subjects(
            current_study(), subjects, seed, [SITE], actor_for=demo_actor, decider_for=demo_decider
        )
        print(f"seeded {subjects} subjects at {SITE} in {time.perf_counter() - started:.0f} s")
        measure_one(runs)
        measure_batch(workdir)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", help="a PostgreSQL server URL (default: SQLite files)")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.server, Path(tmp)) as url:
        run(args.subjects, args.seed, args.runs, url, Path(tmp))


if __name__ == "__main__":
    main()
