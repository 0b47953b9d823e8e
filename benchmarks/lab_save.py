"""A save of a lab form of a fully documented patient: every derivation and check run over
the whole subject (before) against only those the changed value reaches (after).

Seeds demo patients through the write path, takes the one with the most forms, and saves
its latest biochemistry form again and again, one analyte changed each time, through
``save_form`` with a commit (no HTTP): alternately with the scope of every rule of every
entry (as the write path did before the graph of rule inputs) and with the scope the graph
gives. Prints the median and p95 time of a save, its SQL statements, and the rules each
runs; then the evaluation alone (derive + checks on the loaded data). Asserts nothing.

    .venv/bin/python benchmarks/lab_save.py                # 12 patients, 40 saves each way
    .venv/bin/python benchmarks/lab_save.py --saves 100 --server postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from benchmarks.support import bench_app, bench_database
from ecrf.crf import services
from ecrf.crf.evaluate import run_checks, run_derivations
from ecrf.demo import seed_demo
from ecrf.demo_data import seed_subjects
from ecrf.demo_seeding import DEMO_SITES, demo_actor, demo_decider
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.loader import current_study
from ecrf.records.models import EntryStatus, Subject
from ecrf.records.rule_graph import Scope
from forms.language import DataType

FORM = "LBCHEM"


def full_scope(study, data) -> Scope:
    """Every rule on every entry: what a save ran before the graph."""
    scope = Scope()
    for key in data.entries:
        for rule in study.rules.rules_of.get(key[2], ()):
            (scope.checks if rule.check else scope.derivations).add((key, rule.name))
    return scope


def pick(study):
    """The subject with the most form entries, its latest LBCHEM entry, a decimal analyte."""
    best = None
    for subject in db.session.scalars(sa.select(Subject)):
        data = SubjectData.load(study, subject)
        labs = sorted(k for k in data.entries if k[2] == FORM)
        if labs and (best is None or len(data.entries) > best[1]):
            best = (subject, len(data.entries), labs[-1], data)
    subject, count, key, data = best
    entry = data.entries[key]
    for group in study.forms[FORM].groups:
        for item in group.items:
            value = entry.rows.get((group.oid, 1)).values.get(item.oid)
            entered = item.type is DataType.DECIMAL and not item.derived
            # one unit: its number alone is what the benchmark saves
            if entered and not item.multi_unit and value is not None:
                return subject, count, key, group.oid, item, value
    raise SystemExit("no decimal analyte entered on the chosen lab form")


def run(patients: int, saves: int, url: str, workdir: Path) -> None:
    app = bench_app(url, workdir)
    statements = 0

    with app.app_context():

        @sa.event.listens_for(db.engine, "before_cursor_execute")
        def count(*_args):
            nonlocal statements
            statements += 1

        upgrade()
        seed_demo()
        db.session.commit()
        study = current_study()
        started = time.perf_counter()
        seed_subjects(
            study,
            patients,
            7,
            [c for c, _ in DEMO_SITES],
            actor_for=demo_actor,
            decider_for=demo_decider,
        )
        print(f"seeded {patients} patients in {time.perf_counter() - started:.0f} s")
        subject, entries, key, group_oid, item, value = pick(study)
        step = Decimal(1).scaleb(-(2 if item.precision is None else item.precision))
        print(
            f"subject {subject.identifier}: {entries} form entries; saving {key[0]}/{FORM} "
            f"(repeat {key[1]}), {item.oid} {value} ± {step}"
        )
        graph_reached = services.reached
        timings: dict[str, list[float]] = {"before": [], "after": []}
        sql: dict[str, list[int]] = {"before": [], "after": []}
        rules: dict[str, int] = {}

        def save(mode: str, text: str) -> None:
            nonlocal statements
            db.session.expire_all()
            subject_now = db.session.get(Subject, subject.id)
            data = SubjectData.load(study, subject_now)
            entry = data.entries[key].entry
            complete = entry.status is EntryStatus.COMPLETE

            def scoped(save_, data_, changes):
                scope = (
                    full_scope(study, data_)
                    if mode == "before"
                    else graph_reached(save_, data_, changes)
                )
                rules[mode] = len(scope.derivations) + len(scope.checks)
                return scope

            services.reached = scoped
            db.session.expire_all()
            statements = 0
            begun = time.perf_counter()
            services.save_form(
                study,
                subject_now,
                key[0],
                FORM,
                {(group_oid, 1): {item.oid: text}},
                actor=None,
                expected_version=entry.version,
                reason="benchmark" if complete else None,
                visit_repeat=key[1],
            )
            db.session.commit()
            timings[mode].append(time.perf_counter() - begun)
            sql[mode].append(statements)

        for n in range(saves):
            for mode in ("before", "after") if n % 2 else ("after", "before"):
                save(mode, str(value + step * (1 + (len(timings[mode]) % 2))))
        services.reached = graph_reached

        def ms(values, q=None):
            values = sorted(values)
            if q is None:
                return 1000 * statistics.median(values)
            return 1000 * values[min(len(values) - 1, int(q * len(values)))]

        for mode in ("before", "after"):
            print(
                f"save {mode:6}: median {ms(timings[mode]):6.1f} ms, "
                f"p95 {ms(timings[mode], 0.95):6.1f} ms, "
                f"{statistics.median(sql[mode]):.0f} SQL statements, {rules[mode]} rules run"
            )
        data = SubjectData.load(study, db.session.get(Subject, subject.id))
        here = (*key, item.oid)
        scope = study.rules.reach(data.entries, [here], saved=key)
        for mode, chosen in (("before", full_scope(study, data)), ("after", scope)):
            begun = time.perf_counter()
            for _ in range(20):
                run_derivations(study, data, chosen)
                run_checks(study, data, chosen)
            print(f"evaluation {mode:6}: {1000 * (time.perf_counter() - begun) / 20:6.2f} ms")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=12)
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--server", help="a PostgreSQL server URL (default: a SQLite file)")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.server, Path(tmp)) as url:
        run(args.patients, args.saves, url, Path(tmp))


if __name__ == "__main__":
    main()
