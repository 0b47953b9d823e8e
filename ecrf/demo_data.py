"""Replay synthetic patient scenarios through the one write path.

A study definition may ship a demo generator beside its definition: for
``STUDY_DEFINITION = "forms.iahprrt:STUDY"``, the module ``forms.iahprrt.demo`` with
``cohort(seed, count, site_codes, today)`` yielding scenarios in the order to register
them (each with ``.site`` and ``.steps``: plain data, see that module). This module knows
nothing of the trial: it registers each patient and replays their steps through the same
services the pages call (``register_subject``, ``set_visit_date``,
``add_unscheduled_visit``, ``save_form``, ``remove_row``, ``change_status``), so every
value is validated, derived, checked and audited. One commit per patient keeps memory
flat and leaves whole patients only.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ecrf.auth.models import User
from ecrf.crf import services as crf_services
from ecrf.db import utcnow
from ecrf.errors import DomainError
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy, current_study
from ecrf.records.models import Site, Subject, SubjectStatus
from ecrf.records.sites import all_sites
from ecrf.study import subjects


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
    count: int,
    seed: int,
    site_codes: Sequence[str],
    *,
    actor_for: Callable[[str], User | None] = lambda code: None,
    decider_for: Callable[[str], User | None] | None = None,
    today: date | None = None,
    study: LoadedStudy | None = None,
    generator: ModuleType | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Generate ``count`` patients with ``seed`` at ``site_codes`` and replay them, one
    commit per patient.

    :param actor_for: who enters a site's data (None: the command-line operator).
    :param decider_for: who records a site's investigator decisions (inclusion, screen
        failure, withdrawal); ``actor_for`` when not given.
    :param today: the day the patients' histories end (default: today, UTC).
    :raises ScenarioFailed: a step was refused (that patient is rolled back).
    :raises LookupError: the running definition ships no demo generator.
    """
    study = study or current_study()
    generator = generator or demo_generator()
    if generator is None:
        raise LookupError("the study definition ships no demo data generator")
    today = today or utcnow().date()
    scenarios = generator.cohort(seed, count, list(site_codes), today)
    return replay_all(
        study, scenarios, actor_for=actor_for, decider_for=decider_for, progress=progress
    )


def replay_all(
    study: LoadedStudy,
    scenarios: Iterable[Any],
    *,
    actor_for: Callable[[str], User | None] = lambda code: None,
    decider_for: Callable[[str], User | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    report = SeedReport()
    site_ids = {site.code: site.id for site in all_sites()}
    decider_for = decider_for or actor_for
    actor_ids, decider_ids = {}, {}
    for code in site_ids:
        actor, decider = actor_for(code), decider_for(code)
        actor_ids[code] = actor.id if actor is not None else None
        decider_ids[code] = decider.id if decider is not None else None
    for done, scenario in enumerate(scenarios, start=1):
        site = db.session.get(Site, site_ids[scenario.site])
        actor, decider = _user(actor_ids[scenario.site]), _user(decider_ids[scenario.site])
        try:
            subject = replay(study, site, scenario.steps, actor=actor, decider=decider)
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


def _user(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None


def replay(
    study: LoadedStudy,
    site: Site,
    steps: Iterable[tuple],
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
            _apply(study, subject, step, versions, decider if step[0] == "status" else actor)
        except DomainError as exc:
            raise ScenarioFailed(_describe(subject, number, step, exc)) from exc
    return subject


def _apply(study, subject, step, versions, actor) -> None:
    kind = step[0]
    if kind == "visit_date":
        _, visit, repeat, day, deviation = step
        subjects.set_visit_date(
            study, subject, visit, day, actor=actor, repeat_key=repeat, deviation_reason=deviation
        )
    elif kind == "unscheduled":
        _, visit, repeat, day = step
        made = subjects.add_unscheduled_visit(study, subject, visit, day, actor=actor)
        if made.repeat_key != repeat:
            raise DomainError(f"expected occurrence {repeat}, got {made.repeat_key}")
    elif kind == "form":
        _, visit, repeat, form, rows, complete, reason = step
        key = (visit, repeat, form)
        result = crf_services.save_form(
            study,
            subject,
            visit,
            form,
            rows,
            actor=actor,
            expected_version=versions.get(key, 0),
            reason=reason,
            complete=complete,
            visit_repeat=repeat,
        )
        versions[key] = result.entry.version
    elif kind == "remove_row":
        _, visit, repeat, form, group, row_key, reason = step
        key = (visit, repeat, form)
        entry = crf_services.remove_row(
            study,
            subject,
            visit,
            form,
            group,
            row_key,
            actor=actor,
            reason=reason,
            expected_version=versions.get(key, 0),
            visit_repeat=repeat,
        )
        versions[key] = entry.version
    elif kind == "status":
        _, status, reason = step
        subjects.change_status(
            subject, SubjectStatus(status), actor=actor, reason=reason, study=study
        )
    else:
        raise DomainError(f"unknown step {kind!r}")


def _describe(subject: Subject, number: int, step: tuple, exc: DomainError) -> str:
    where = " ".join(str(part) for part in step[1:4] if not isinstance(part, dict))
    text = f"{subject.identifier}, step {number} ({step[0]} {where}): {exc.message}"
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
