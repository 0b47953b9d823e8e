"""Form saves and form pages through HTTP, each beside its floor: an authenticated POST that
inserts one row (and an authenticated GET that reads one), measured in the same run.

Seeds demo patients through the write path, signs in as the site staff of the patient with
the most form entries, and through the Flask test client: saves one value changed (draft,
or complete with a reason) of its haematology form (LBHEM, 18 fields: the "20-field form"),
its latest biochemistry form (LBCHEM, 28 fields) and its PET form, again and again, and
opens each form's page. Prints for each the median and p95 wall time, the median CPU time
of this process (less inflated by other work on a busy machine), each against its floor,
the SQL statements per request and (``--list``) the statements grouped by kind and table.
Asserts nothing.

    python benchmarks/form_save.py                      # 12 patients, 40 requests each
    python benchmarks/form_save.py --saves 100 --list
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, request
from flask_login import login_required
from flask_migrate import upgrade

from benchmarks.support import bench_app, bench_database
from ecrf import transaction
from ecrf.auth.roles import Role
from ecrf.crf import web_forms
from ecrf.demo import seed_demo
from ecrf.demo_data import seed_subjects
from ecrf.demo_seeding import DEMO_SITES, DEMO_USERS, demo_actor, demo_decider
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy, current_study
from ecrf.records.models import EntryStatus, Subject
from forms.language import DataType

#: The forms saved: (label, form OID, which of the subject's entries of it).
FORMS = (("20-field (LBHEM)", "LBHEM", "first"), ("lab (LBCHEM)", "LBCHEM", "last"))
PET_FORMS = ("PETIAH", "PETIV", "PETFU")
_FLOOR = sa.table("bench_floor", sa.column("id", sa.Integer), sa.column("note", sa.Text))
_TABLE = re.compile(r'^\s*(?:SELECT\b.*?\bFROM|INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)', re.S)


def add_floor(app: Flask) -> None:
    """The floor: authenticated views that insert one row (POST) or read one (GET), with the
    same session, sign-in and one-commit transaction as every view; the benchmark's only."""

    @login_required
    def floor():
        if request.method == "GET":
            return str(db.session.execute(sa.select(sa.func.count()).select_from(_FLOOR)).scalar())
        note = request.form.get("note", "")
        transaction.perform(lambda: db.session.execute(sa.insert(_FLOOR).values(note=note)))
        return "ok"

    app.add_url_rule("/bench-floor", "bench_floor", floor, methods=["GET", "POST"])


def kind(statement: str) -> str:
    """ "SELECT form_entry", "UPDATE audit_head", "SAVEPOINT"…: what a statement does where."""
    verb = statement.split(None, 1)[0].upper()
    match = _TABLE.match(statement)
    return f"{verb} {match.group(1)}" if match else verb


def most_documented(study: LoadedStudy, sites: list[str]) -> tuple[Subject, SubjectData]:
    best = None
    for subject in db.session.scalars(sa.select(Subject).order_by(Subject.id)):
        if subject.identifier.split("-")[0] not in sites:
            continue
        data = SubjectData.load(study, subject)
        if best is None or len(data.entries) > len(best[1].entries):
            best = (subject, data)
    return best


def changeable(study: LoadedStudy, form_oid: str, entry_data) -> tuple[str, Decimal, Decimal]:
    """A field of a decimal item entered on the form (one unit or its stored unit), its
    value, and a step to change it by."""
    for group in study.forms[form_oid].groups:
        if group.repeating:
            continue
        row = entry_data.rows.get((group.oid, 1))
        for item in group.items:
            value = row.values.get(item.oid) if row else None
            if item.type is DataType.DECIMAL and not item.derived and value is not None:
                if item.oid in row.entered:
                    value = row.entered[item.oid][0]
                step = Decimal(1).scaleb(-(item.precision or 0))
                return web_forms.field_name(group.oid, 1, item.oid), value, step
    raise SystemExit(f"no decimal value entered on {form_oid}")


def timed(requests: int, call: Callable[[int], None], counter: list[int]):
    """Wall and CPU time of each call (the CPU time of this process, which a busy machine
    inflates less), and the statements each issued."""
    times, cpu, counts = [], [], []
    for n in range(requests):
        counter[0] = 0
        begun, begun_cpu = time.perf_counter(), time.process_time()
        call(n)
        times.append(time.perf_counter() - begun)
        cpu.append(time.process_time() - begun_cpu)
        counts.append(counter[0])
    return times, cpu, counts


def ms(values: list[float], q: float | None = None) -> float:
    values = sorted(values)
    if q is None:
        return 1000 * statistics.median(values)
    return 1000 * values[min(len(values) - 1, int(q * len(values)))]


def seed(app: Flask, patients: int) -> dict[str, str]:
    """The demo's sites and accounts, ``patients`` patients; the passwords by username."""
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, note TEXT)"))
        passwords = {a.username: a.password for a in seed_demo()}
        db.session.commit()
        started = time.perf_counter()
        sites = [code for code, _ in DEMO_SITES]
        seed_subjects(
            current_study(), patients, 7, sites, actor_for=demo_actor, decider_for=demo_decider
        )
        print(f"seeded {patients} patients in {time.perf_counter() - started:.0f} s")
        db.session.remove()
    return passwords


def run(app: Flask, passwords: dict[str, str], requests: int, listing: bool) -> None:
    add_floor(app)
    counter = [0]
    seen: list[str] = []
    with app.app_context():

        @sa.event.listens_for(db.engine, "before_cursor_execute")
        def count(_conn, _cursor, statement, *_args):
            counter[0] += 1
            seen.append(statement)

        study = current_study()
        staff = {c: u for u, _, r, c in DEMO_USERS if r is Role.SITE_STAFF}
        subject, data = most_documented(study, list(staff))
        user = staff[subject.identifier.split("-")[0]]
        targets = []
        for label, form_oid, which in FORMS:
            keys = sorted(k for k in data.entries if k[2] == form_oid)
            targets.append((label, keys[0 if which == "first" else -1]))
        pet = next((k for k in sorted(data.entries) if k[2] in PET_FORMS), None)
        if pet is not None:
            targets.append((f"PET ({pet[2]})", pet))
        print(
            f"subject {subject.identifier}: {len(data.entries)} form entries; signed in as {user}"
        )
        db.session.remove()

    client = app.test_client()
    client.post("/login", data={"username": user, "password": passwords[user]})
    rows: list[tuple[str, list[float], list[float], list[int]]] = []
    listings: dict[str, Counter] = {}

    def measure(label: str, call: Callable[[int], None]) -> None:
        call(-1)  # warm: first-use caches, the page's templates
        seen.clear()
        times, cpu, counts = timed(requests, call, counter)
        listings[label] = Counter(kind(s) for s in seen)
        rows.append((label, times, cpu, counts))

    measure(
        "floor POST (insert one row)",
        lambda n: _ok(client.post("/bench-floor", data={"note": str(n)})),
    )
    measure("floor GET (read one row)", lambda n: _ok(client.get("/bench-floor")))
    for label, (visit_oid, repeat, form_oid) in targets:
        path = f"/subjects/{subject.identifier}/visits/{visit_oid}/{repeat}/forms/{form_oid}"
        with app.app_context():
            fresh = SubjectData.load(study, db.session.get(Subject, subject.id))
            entry_data = fresh.entry(visit_oid, repeat, form_oid)
            row_keys = web_forms.row_keys_for(study.forms[form_oid], entry_data)
            body = web_forms.initial_data(study, study.forms[form_oid], entry_data, row_keys)
            name, value, step = changeable(study, form_oid, entry_data)
            complete = entry_data.entry.status is EntryStatus.COMPLETE
            version = [entry_data.entry.version]
            db.session.remove()

        def save(
            n: int,
            path=path,
            body=body,
            name=name,
            value=value,
            step=step,
            version=version,
            complete=complete,
        ) -> None:
            form = {**body, name: str(value + step * (n % 2 + 1)), "version": str(version[0])}
            form["action"] = "complete" if complete else "save"
            if complete:
                form["reason"] = "benchmark"
            response = client.post(path, data=form)
            if response.status_code != 302:
                raise SystemExit(f"{path}: {response.status_code}\n{response.text[:3000]}")
            version[0] += 1

        measure(f"{label} save", save)
        measure(f"{label} GET", lambda n, path=path: _ok(client.get(path)))

    floor = {"POST": rows[0], "GET": rows[1]}
    print(
        f"\n{'request':<28} {'median':>8} {'p95':>8} {'× floor':>8} "
        f"{'CPU':>8} {'× floor':>8} {'SQL':>5}"
    )
    for label, times, cpu, counts in rows:
        _, base, base_cpu, _ = floor["GET" if label.endswith("GET") else "POST"]
        print(
            f"{label:<28} {ms(times):6.1f}ms {ms(times, 0.95):6.1f}ms "
            f"{ms(times) / ms(base):7.1f}× {ms(cpu):6.1f}ms {ms(cpu) / ms(base_cpu):7.1f}× "
            f"{statistics.median(counts):5.0f}"
        )
    if listing:
        for label, kinds in listings.items():
            print(f"\n{label}: statements per request by kind")
            for what, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
                print(f"  {n / requests:6.1f}  {what}")


def _ok(response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{response.request.path}: {response.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=12)
    parser.add_argument("--saves", type=int, default=40, help="requests of each kind")
    parser.add_argument("--list", action="store_true", help="statements by kind and table")
    parser.add_argument("--server", help="a PostgreSQL server URL (default: a SQLite file)")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.server, Path(tmp)) as url:
        app = bench_app(url, Path(tmp), WTF_CSRF_ENABLED=False)
        run(app, seed(app, args.patients), args.saves, args.list)


if __name__ == "__main__":
    main()
