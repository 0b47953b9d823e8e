"""How long the trial's blank annotated CRF takes: its data and HTML, then WeasyPrint's
PDF/A-3b of that HTML, each as wall and CPU time (the median of a few runs), with the
pages, the size and Python's full garbage collections during the PDF. No database: the aCRF
reads only the definition. A benchmark prints figures; it asserts nothing.

    .venv/bin/python benchmarks/acrf.py                       # 3 runs
    .venv/bin/python benchmarks/acrf.py --runs 1 --profile acrf.prof --out acrf.pdf
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import statistics
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask

from ecrf.records.loader import import_study, load_study
from ecrf.reporting.acrf_pdf import TEMPLATE, _context, layout_key
from reports.pages import count_pages
from reports.render import html_to_pdf, render_html

DEFINITION = "forms.iahprrt:STUDY"


def timed(action):
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(prog="benchmarks/acrf.py", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the last PDF into FILE")
    parser.add_argument("--out", metavar="PDF", type=Path, help="write the last PDF there")
    args = parser.parse_args()
    study = load_study(import_study(DEFINITION))
    app = Flask("acrf-benchmark")  # the plan is looked up in the configured definition
    app.config["STUDY_DEFINITION"] = DEFINITION
    full = [0]
    gc.callbacks.append(
        lambda phase, info: full.__setitem__(
            0, full[0] + (phase == "start" and info["generation"] == 2)
        )
    )
    html_times, pdf_times = [], []
    with app.app_context():
        identifier = layout_key(study)[:32].encode()
        when = datetime(2000, 1, 1, tzinfo=UTC)
        for run in range(args.runs):
            wall, cpu, html = timed(lambda: render_html(TEMPLATE, _context(study, when)))
            html_times.append((wall, cpu))
            profile = cProfile.Profile() if args.profile and run == args.runs - 1 else None
            collections = full[0]
            if profile:
                profile.enable()
            wall, cpu, pdf = timed(partial(html_to_pdf, html, identifier=identifier))
            if profile:
                profile.disable()
                profile.dump_stats(args.profile)
            pdf_times.append((wall, cpu, full[0] - collections))
    if args.out:
        args.out.write_bytes(pdf)

    def median(times, index):
        return statistics.median(t[index] for t in times)

    print(f"aCRF of {DEFINITION}: {count_pages(pdf)} pages, {len(pdf) / 1e6:.2f} MB, ", end="")
    print(f"HTML {len(html) / 1e3:.0f} kB; median of {args.runs} run(s)")
    print("| step | wall | CPU |")
    print("| --- | --- | --- |")
    print(f"| data and HTML | {median(html_times, 0):.2f} s | {median(html_times, 1):.2f} s |")
    print(
        f"| PDF/A-3b (WeasyPrint) | {median(pdf_times, 0):.1f} s | {median(pdf_times, 1):.1f} s |"
    )
    print(f"Full garbage collections during each PDF: {[t[2] for t in pdf_times]}")


if __name__ == "__main__":
    main()
