"""Replay synthetic patient scenarios through the one write path.

A study definition may ship a demo generator beside its definition: for
``STUDY_DEFINITION = "forms.iahprrt:STUDY"``, the module ``forms.iahprrt.demo`` with
``cohort(seed, count, site_codes, today)`` yielding scenarios in the order to register
them (each with ``.site`` and ``.steps``: frozen dataclasses of
``forms.iahprrt.demo.steps``, a vocabulary that holds nothing of the trial). This module
knows nothing of the trial either: it registers each patient and replays their steps
through the same services the pages call (``register_subject``, then one service per
step type: ``set_visit_date``, ``add_unscheduled_visit``, ``save_form``, ``remove_row``,
``change_status``), so every value is validated, derived, checked and audited. One
commit per patient keeps memory flat and leaves whole patients only.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType

import sqlalchemy as sa
from flask import current_app

from ecrf.auth.models import User
from ecrf.crf import services as crf_services
from ecrf.crf import visits
from ecrf.db import utcnow
from ecrf.errors import DomainError
from ecrf.extensions import db
from ecrf.laboratories import services as lab_registry
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Site, Subject, SubjectStatus
from ecrf.records.sites import all_sites
from ecrf.study import subjects
from forms.iahprrt.demo.steps import (
    AddUnscheduledVisit,
    ChangeStatus,
    RemoveRow,
    SaveForm,
    Scenario,
    SetVisitDate,
    Step,
)


class ScenarioFailed(Exception):
    """A step of a scenario was refused: the generator and the definition disagree."""


@dataclass
class SeedReport:
    statuses: Counter[SubjectStatus] = field(default_factory=Counter)
    sites: Counter[str] = field(default_factory=Counter)

    @property
    def subjects(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> str:
        """One line: how many subjects, where, and in which status."""
        if not self.subjects:
            return "No demo subjects seeded."
        by_site = ", ".join(f"{code} {n}" for code, n in sorted(self.sites.items()))
        by_status = ", ".join(
            f"{self.statuses[s]} {s.label.lower()}" for s in SubjectStatus if self.statuses[s]
        )
        return f"Seeded {self.subjects} demo subjects ({by_site}): {by_status}."


def demo_generator(study_path: str | None = None) -> ModuleType | None:
    """The demo generator shipped beside the running definition, or None if it has none."""
    study_path = study_path or current_app.config["STUDY_DEFINITION"]
    name = study_path.partition(":")[0] + ".demo"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None  # no such module (or package): the definition ships no generator
        raise
    return module if callable(getattr(module, "cohort", None)) else None


def seed_subjects(
    study: LoadedStudy,
    count: int,
    seed: int,
    site_codes: Sequence[str],
    *,
    actor_for: Callable[[str], User | None] = lambda code: None,
    decider_for: Callable[[str], User | None] | None = None,
    today: date | None = None,
    generator: ModuleType | None = None,
    progress: Callable[[int], None] | None = None,
    skip: int = 0,
    until: int | None = None,
    in_transaction: Callable[[int], None] | None = None,
) -> SeedReport:
    """Generate ``count`` patients with ``seed`` at ``site_codes`` and replay them through
    the write path of ``study``, one commit per patient.

    :param actor_for: who enters a site's data (None: the command-line operator).
    :param decider_for: who records a site's investigator decisions (inclusion, screen
        failure, withdrawal); ``actor_for`` when not given.
    :param today: the day the patients' histories end (default: today, UTC).
    :param skip: how many of the patients are in the database already (a resumed seeding:
        the same seed generates them again, and they are passed over).
    :param until: stop after that patient (a seeding driven step by step).
    :param in_transaction: called with the count of patients done inside each patient's
        transaction, before its commit (a job's progress, committed with the patient);
        ``progress`` is called after the commit.
    :raises ScenarioFailed: a step was refused (that patient is rolled back).
    :raises LookupError: the running definition ships no demo generator.
    """
    generator = generator or demo_generator()
    if generator is None:
        raise LookupError("the study definition ships no demo data generator")
    today = today or utcnow().date()
    scenarios = generator.cohort(seed, count, list(site_codes), today)
    return replay_all(
        study,
        scenarios,
        actor_for=actor_for,
        decider_for=decider_for,
        progress=progress,
        skip=skip,
        until=until,
        in_transaction=in_transaction,
    )


def replay_all(
    study: LoadedStudy,
    scenarios: Iterable[Scenario],
    *,
    actor_for: Callable[[str], User | None] = lambda code: None,
    decider_for: Callable[[str], User | None] | None = None,
    progress: Callable[[int], None] | None = None,
    skip: int = 0,
    until: int | None = None,
    in_transaction: Callable[[int], None] | None = None,
) -> SeedReport:
    """Replay ``scenarios`` (but the first ``skip``, and none after ``until``), one commit
    per patient (see
    :func:`seed_subjects`)."""
    report = SeedReport()
    site_ids = {site.code: site.id for site in all_sites()}
    decider_for = decider_for or actor_for
    actor_ids, decider_ids = {}, {}
    for code in site_ids:
        actor, decider = actor_for(code), decider_for(code)
        actor_ids[code] = actor.id if actor is not None else None
        decider_ids[code] = decider.id if decider is not None else None
    declared: set[tuple[str, str]] = set()
    for done, scenario in enumerate(scenarios, start=1):
        if until is not None and done > until:
            break
        if done <= skip:
            continue
        site = db.session.get(Site, site_ids[scenario.site])
        actor, decider = _user(actor_ids[scenario.site]), _user(decider_ids[scenario.site])
        try:
            laboratory = getattr(scenario, "laboratory", None)
            if laboratory is not None and (site.code, laboratory.name) not in declared:
                declare_laboratory(study, site, laboratory)
                declared.add((site.code, laboratory.name))
            subject = replay(study, site, scenario.steps, actor=actor, decider=decider)
            if in_transaction is not None:
                in_transaction(done)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        report.statuses[subject.status] += 1
        report.sites[scenario.site] += 1
        # Nothing of this patient stays in the session: memory does not grow with the count.
        db.session.expunge_all()
        if progress is not None:
            progress(done)
    return report


def declare_laboratory(study: LoadedStudy, site: Site, laboratory) -> None:
    """The laboratory a scenario's lab forms name, added to its site's registry with its
    ranges (by the operator seeding the demo) unless the site declares it already."""
    if lab_registry.find_laboratory(site.id, laboratory.name) is not None:
        return
    added = lab_registry.add_laboratory(site, laboratory.name, actor=None)
    for declared in laboratory.ranges:
        typed = lab_registry.RangeInput(
            testcd=declared.testcd,
            unit=declared.unit,
            sex=declared.sex,
            low=declared.low,
            high=declared.high,
            valid_from=laboratory.valid_from.isoformat(),
        )
        lab_registry.add_range(study, added, typed, actor=None)


def _user(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None


def replay(
    study: LoadedStudy,
    site: Site,
    steps: Iterable[Step],
    *,
    actor: User | None,
    decider: User | None = None,
) -> Subject:
    """Register one subject at ``site`` and apply ``steps`` to it (not committed); the
    changes of status are recorded by ``decider`` (``actor`` when not given)."""
    subject = subjects.register_subject(site, actor=actor)
    versions: dict[tuple[str, int, str], int] = {}
    for number, step in enumerate(steps, start=1):
        try:
            _apply(study, subject, step, versions, decider if _decision(step) else actor)
        except DomainError as exc:
            raise ScenarioFailed(_describe(subject, number, step, exc)) from exc
    return subject


def _decision(step: Step) -> bool:
    """Whether ``step`` is an investigator's decision (recorded by the site's decider)."""
    return isinstance(step, ChangeStatus)


def _apply(
    study: LoadedStudy,
    subject: Subject,
    step: Step,
    versions: dict[tuple[str, int, str], int],
    actor: User | None,
) -> None:
    """Apply one step through its service; ``versions`` holds the version of each form
    entry saved so far, (visit, repeat, form) → version, for the stale-entry check."""
    match step:
        case SetVisitDate():
            visits.set_visit_date(
                study,
                subject,
                step.visit,
                step.day,
                actor=actor,
                repeat_key=step.repeat,
                deviation_reason=step.deviation_reason,
            )
        case AddUnscheduledVisit():
            made = visits.add_unscheduled_visit(study, subject, step.visit, step.day, actor=actor)
            if made.repeat_key != step.repeat:
                raise DomainError(f"expected occurrence {step.repeat}, got {made.repeat_key}")
        case SaveForm():
            key = (step.visit, step.repeat, step.form)
            result = crf_services.save_form(
                study,
                subject,
                step.visit,
                step.form,
                {row: dict(values) for row, values in step.rows.items()},
                actor=actor,
                expected_version=versions.get(key, 0),
                reason=step.reason,
                complete=step.complete,
                visit_repeat=step.repeat,
            )
            versions[key] = result.entry.version
        case RemoveRow():
            key = (step.visit, step.repeat, step.form)
            entry = crf_services.remove_row(
                study,
                subject,
                step.visit,
                step.form,
                step.group,
                step.key,
                actor=actor,
                reason=step.reason,
                expected_version=versions.get(key, 0),
                visit_repeat=step.repeat,
            )
            versions[key] = entry.version
        case ChangeStatus():
            subjects.change_status(
                study, subject, SubjectStatus(step.status), actor=actor, reason=step.reason
            )
        case _:
            raise DomainError(f"unknown step {type(step).__name__}")


def _where(step: Step) -> str:
    """The step, named by its type and what it addresses, for an error message."""
    match step:
        case SaveForm() | RemoveRow():
            where = f"{step.visit} {step.repeat} {step.form}"
        case SetVisitDate() | AddUnscheduledVisit():
            where = f"{step.visit} {step.repeat} {step.day}"
        case ChangeStatus():
            where = f"{step.status}: {step.reason}"
        case _:
            where = ""
    return f"{type(step).__name__} {where}".strip()


def _describe(subject: Subject, number: int, step: Step, exc: DomainError) -> str:
    text = f"{subject.identifier}, step {number} ({_where(step)}): {exc.message}"
    issues = getattr(exc, "issues", None) or []
    details = [
        f"{i.group_oid}[{i.row_key}].{i.item_oid or '*'}: {i.message}"
        for i in issues
        if i.severity == "error"
    ]
    details += getattr(exc, "form_errors", None) or []
    return text + (" " + "; ".join(details) if details else "")


def count_subjects() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Subject)) or 0
