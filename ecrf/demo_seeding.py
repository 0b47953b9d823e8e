"""The demo's data: its sites and accounts by name, and the seeding of its patients and of
their monitoring (queries, verification, review, locks, signatures).

One function, :func:`seed_all`, does the seeding in steps (one per patient, then one per
monitoring phase), each committed with its mark of progress; `ecrf demo --no-serve` calls
it in the command, `ecrf demo` runs it as a background job (kind "demo",
:func:`run_demo_seeding`) while the app serves, so the same seed gives the same data.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app

from ecrf import transaction
from ecrf.audit.checkpoints import write_checkpoint
from ecrf.auth import services as auth_services
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.db import utcnow
from ecrf.demo_data import ScenarioFailed, demo_generator, seed_subjects
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.jobs.backends import give_way, redis_connection
from ecrf.jobs.models import Job
from ecrf.locks.demo import seed_demo_locks
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import LoadedStudy, current_study
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Site, Subject, SubjectVisit
from ecrf.review.demo import seed_demo_review
from ecrf.sdv.demo import seed_demo_verification
from ecrf.signatures.demo import seed_demo_signatures

DEMO_SITES = [
    ("BDX", "CHU de Bordeaux (University Hospital Bordeaux)"),
    ("TLS", "CHU de Toulouse (demo site)"),
    ("NTE", "CHU de Nantes (demo site)"),
]
DEMO_USERS = [
    ("staff.bdx", "Camille Martin", Role.SITE_STAFF, "BDX"),
    ("investigator.bdx", "Dr Louise Dupont", Role.INVESTIGATOR, "BDX"),
    ("staff.tls", "Inès Moreau", Role.SITE_STAFF, "TLS"),
    ("monitor", "Hugo Bernard", Role.MONITOR, None),
    ("datamanager", "Chloé Petit", Role.DATA_MANAGER, None),
    ("sponsor", "Sponsor Reader", Role.SPONSOR, None),
    ("admin", "System Administrator", Role.ADMIN, None),
]

#: The demo monitor's own queries, so that a newcomer meets each state beside the automatic
#: ones (opened and closed by the edit checks): closed after the site's answer, answered,
#: open. (site, visit, form, item, question, the site's answer, the monitor's closing note)
DEMO_QUERIES = [
    (
        "BDX",
        "SCR",
        "VS",
        "WEIGHT",
        "The referral letter gives another weight: please check the source.",
        "Checked on the nurse's sheet of the visit: the letter was older.",
        "Seen on the source at the monitoring visit.",
    ),
    (
        "TLS",
        "SCR",
        "DM",
        "BRTHYM",
        "Please confirm the month of birth against the identity card.",
        "Confirmed on the identity card.",
        None,
    ),
    (
        "BDX",
        "PETIV",
        "PETIV",
        "PETDAT",
        "The PET report is dated another day: which is right?",
        None,
        None,
    ),
]

DEMO_QUERIES_RAISED = "The demo monitor raised {count} queries of its own."
#: The monitoring phases after the patients, one committed step each, in this order.
PHASES = ("queries", "verification", "review", "locks", "signatures")


def demo_actor(site_code: str) -> User | None:
    """Who enters a demo site's data: its site staff account (None where it has none: the
    command-line operator)."""
    for username, _, role, code in DEMO_USERS:
        if code == site_code and role is Role.SITE_STAFF:
            return auth_services.get_user(username)
    return None


def demo_decider(site_code: str) -> User | None:
    """Who records a demo site's investigator decisions (inclusion, screen failure,
    withdrawal): its investigator account (None where it has none: the command-line
    operator)."""
    for username, _, role, code in DEMO_USERS:
        if code == site_code and role is Role.INVESTIGATOR:
            return auth_services.get_user(username)
    return None


@dataclass(frozen=True)
class SeedingPlan:
    """What to seed: kept on the job row (``params``), so a restart resumes the same."""

    count: int
    seed: int
    #: The day the patients' histories end (the first start's, not the resume's).
    today: date
    #: Where the investigators' passwords wait for the signing phase (never in the
    #: database: in this process, or in Redis for a worker; see :func:`hand_over`).
    passwords_key: str = ""

    @property
    def steps(self) -> int:
        return self.count + len(PHASES)

    def params(self) -> dict:
        return {
            "count": self.count,
            "seed": self.seed,
            "today": self.today.isoformat(),
            "passwords_key": self.passwords_key,
        }

    @classmethod
    def from_params(cls, params: dict) -> SeedingPlan:
        return cls(
            int(params["count"]),
            int(params["seed"]),
            date.fromisoformat(params["today"]),
            str(params.get("passwords_key") or ""),
        )


def seed_all(
    study: LoadedStudy,
    plan: SeedingPlan,
    passwords: Iterable[tuple[str, str]],
    *,
    start: int = 0,
    mark: Callable[[int], None] | None = None,
    echo: Callable[[int], None] | None = None,
    until: int | None = None,
) -> list[str]:
    """Seed ``plan`` from step ``start`` (the steps already committed): its patients (one
    step each, through the write path), then each of :data:`PHASES`; return the lines to
    print. ``mark(done)`` runs inside each step's transaction (the job's progress commits
    with the data it counts); ``echo(done)`` after each patient's commit. ``until``: stop
    after that step (a seeding driven step by step; no checkpoint then). After each commit
    the seeding gives way to the requests its process serves (:func:`give_way`).

    :raises ScenarioFailed: a patient's step was refused (that patient is rolled back).
    """
    lines = []
    until = plan.steps if until is None else min(until, plan.steps)

    def committed(done: int) -> None:
        give_way()  # the app's requests first, when it serves while seeding
        if echo is not None:
            echo(done)

    if start < min(plan.count, until):
        generator = demo_generator()
        if generator is None:
            return ["No demo subjects: this study definition ships no demo data generator."]
        report = seed_subjects(
            study,
            plan.count,
            plan.seed,
            [code for code, _ in DEMO_SITES],
            actor_for=demo_actor,
            decider_for=demo_decider,
            today=plan.today,
            generator=generator,
            progress=committed,
            skip=start,
            until=until,
            in_transaction=mark,
        )
        lines.append(report.summary())
    passwords = list(passwords)
    phases: list[Callable[[], str]] = [
        lambda: DEMO_QUERIES_RAISED.format(count=seed_demo_queries()),
        lambda: seed_demo_verification(save_form),
        seed_demo_review,
        # The locks refuse later writes to what they hold (the order of the first demo).
        lambda: seed_demo_locks(study),
        lambda: seed_demo_signatures(passwords, save_form),
    ]
    for number, phase in enumerate(phases, start=plan.count + 1):
        if number <= start:
            continue
        if number > until:
            return lines

        def step(phase=phase, number=number) -> str:
            line = phase()
            if mark is not None:
                mark(number)
            return line

        lines.append(transaction.perform(step))
        give_way()
    # The seeding appended thousands of events in minutes: checkpoint the head it reached.
    checkpoint = write_checkpoint()
    lines.append(f"Audit checkpoint: event #{checkpoint.seq}.")
    return lines


def seed_demo_subjects_now(count: int, seed: int, passwords: Iterable[tuple[str, str]]) -> str:
    """`ecrf demo --no-serve`: seed in this command (with a progress line on a terminal);
    return the lines to print. Nothing when the database already has subjects.

    :raises ScenarioFailed: see :func:`seed_all`.
    """
    if count <= 0:
        return _with_checkpoint("No demo subjects requested.")
    existing = _count_subjects()
    if existing:
        return _with_checkpoint(f"Demo subjects: the database already has {existing}; none added.")
    echo = None
    if sys.stderr.isatty():

        def echo(done: int) -> None:
            click.echo(f"\rSeeding demo subjects: {done}/{count}", err=True, nl=done == count)

    plan = SeedingPlan(count, seed, utcnow().date())
    return "\n".join(seed_all(current_study(), plan, passwords, echo=echo))


def _with_checkpoint(line: str) -> str:
    checkpoint = write_checkpoint()
    return f"{line}\nAudit checkpoint: event #{checkpoint.seq}."


def _count_subjects() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Subject)) or 0


# --- the background job -------------------------------------------------------------------


def run_demo_seeding(
    study: LoadedStudy,
    out: Path,
    *,
    site_ids,
    actor,
    progress,
    job_id: int,
    params: dict,
) -> Path:
    """The "demo" job: :func:`seed_all` from the steps this job committed already (a
    restart of `ecrf demo` queues it again: it resumes), its lines in ``out``."""
    plan = SeedingPlan.from_params(params)
    start = db.session.scalar(sa.select(Job.progress_done).where(Job.id == job_id)) or 0
    mark = progress_marker(job_id, plan.steps)
    try:
        lines = seed_all(study, plan, take_passwords(plan.passwords_key), start=start, mark=mark)
    except ScenarioFailed as exc:
        raise RuleViolation(f"Demo subjects could not be seeded: {exc}") from exc
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    progress(plan.steps, plan.steps)
    return out


def progress_marker(job_id: int, total: int) -> Callable[[int], None]:
    """``mark`` for :func:`seed_all`: the job's progress, written in the step's transaction
    (what the pages read; where a restart resumes)."""

    def mark(done: int) -> None:
        db.session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(progress_done=done, progress_total=total, heartbeat_at=utcnow())
        )

    return mark


_PASSWORDS: dict[str, list[tuple[str, str]]] = {}


def hand_over(passwords: Iterable[tuple[str, str]]) -> str:
    """Keep the demo accounts' passwords for the signing phase; return their key.

    They never reach the database: in this process for the thread pool, else in Redis
    (where the job's id travels too) for as long as a job may run.
    """
    key = f"ecrf-demo-passwords-{secrets.token_hex(8)}"
    url = current_app.config.get("REDIS_URL")
    if url:
        ttl = int(float(current_app.config["JOB_TIMEOUT_MINUTES"]) * 60)
        redis_connection(url).set(key, json.dumps(list(passwords)), ex=ttl)
    else:
        _PASSWORDS[key] = list(passwords)
    return key


def take_passwords(key: str) -> list[tuple[str, str]]:
    """The passwords kept under ``key`` (none when lost: the signing phase then signs
    nothing), forgotten once taken."""
    if not key:
        return []
    url = current_app.config.get("REDIS_URL")
    if url:
        connection = redis_connection(url)
        kept = connection.get(key)
        connection.delete(key)
        return [tuple(pair) for pair in json.loads(kept)] if kept else []
    return _PASSWORDS.pop(key, [])


# --- the demo monitor's queries ------------------------------------------------------------


def seed_demo_queries() -> int:
    """The demo monitor's queries (``DEMO_QUERIES``) on the first subject of each site with
    that item filled, answered by the site's staff and closed as listed; returns how many
    (fewer when too few subjects were seeded to have the data)."""
    study = current_study()
    monitor = auth_services.get_user("monitor")
    raised = 0
    for site_code, visit, form, item, question, answer, note in DEMO_QUERIES:
        subject = _first_with(site_code, visit, form, item)
        if subject is None:
            continue
        target = QueryTarget(visit, 1, form, item_oid=item)
        query = queries.open_query(study, subject, target, question, actor=monitor)
        if answer is not None:
            queries.answer_query(query, answer, actor=demo_actor(site_code))
        if note is not None:
            queries.close_query(query, note, actor=monitor)
        raised += 1
    return raised


def _first_with(site_code: str, visit: str, form: str, item: str) -> Subject | None:
    return db.session.scalar(
        sa.select(Subject)
        .join(Site, Subject.site_id == Site.id)
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .join(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .where(
            Site.code == site_code,
            SubjectVisit.visit_oid == visit,
            SubjectVisit.repeat_key == 1,
            FormEntry.form_oid == form,
            ItemValue.item_oid == item,
            ItemValue.value_text.is_not(None),
        )
        .order_by(Subject.number)
        .limit(1)
    )
