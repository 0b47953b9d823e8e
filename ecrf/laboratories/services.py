"""The laboratory registry: add and change a site's laboratories and their normal ranges
(audited, scoped to the sites where the actor manages laboratories), and the range that
applies to one sample."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import ALL_SITES, require_permission, sites_with
from ecrf.auth.roles import Perm
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.laboratories.analytes import analytes
from ecrf.laboratories.models import (
    Laboratory,
    ReferenceRange,
    StoredLaboratory,
    StoredRange,
)
from ecrf.records.data import plain_rows
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Site

SEXES = {"M": "Men", "F": "Women"}


@dataclass(frozen=True)
class RangeInput:
    """A normal range as typed: texts, parsed and checked by :func:`add_range`."""

    testcd: str
    unit: str
    sex: str = ""
    age_low: str = ""
    age_high: str = ""
    low: str = ""
    high: str = ""
    valid_from: str = ""
    valid_to: str = ""


def laboratories_for(actor: User) -> list[Laboratory]:
    """The laboratories of the sites where ``actor`` manages laboratories."""
    query = sa.select(Laboratory).join(Site).order_by(Site.code, Laboratory.name)
    sites = sites_with(actor, Perm.MANAGE_LABORATORIES)
    if sites is not ALL_SITES:
        query = query.where(Laboratory.site_id.in_(sites or {-1}))
    return list(db.session.scalars(query))


def site_laboratories(site_id: int) -> list[Laboratory]:
    """A site's laboratories, by name (what a lab form offers), with their ranges (what a
    lab form's save and page read: one statement for all)."""
    return list(db.session.scalars(_site_laboratories(), {"site_id": site_id}).unique())


@functools.cache
def _site_laboratories() -> sa.Select:
    return (
        sa.select(Laboratory)
        .where(Laboratory.site_id == sa.bindparam("site_id"))
        .options(joinedload(Laboratory.ranges))
        .order_by(Laboratory.name)
    )


def site_registry(site_id: int) -> list[StoredLaboratory]:
    """A site's laboratories by name with their ranges, as plain records: what a save looks
    up (one statement, no ORM objects; ``site_laboratories`` gives the models)."""
    found: dict[int, tuple[str, list[StoredRange]]] = {}
    for laboratory_id, name, *columns in plain_rows(_registry(), {"site_id": site_id}).all():
        ranges = found.setdefault(laboratory_id, (name, []))[1]
        if columns[0] is not None:  # a laboratory without ranges: one row, its range's NULL
            ranges.append(StoredRange(*columns))
    return [StoredLaboratory(name, tuple(ranges)) for name, ranges in found.values()]


@functools.cache
def _registry() -> sa.Select:
    laboratory, reference = Laboratory.__table__, ReferenceRange.__table__
    columns = [reference.c[f.name] for f in dataclasses.fields(StoredRange)]
    return (
        sa.select(laboratory.c.id, laboratory.c.name, *columns)
        .outerjoin(reference, reference.c.laboratory_id == laboratory.c.id)
        .where(laboratory.c.site_id == sa.bindparam("site_id"))
        .order_by(laboratory.c.name, reference.c.id)
    )


def find_laboratory(site_id: int, name: str) -> Laboratory | None:
    return db.session.scalar(
        sa.select(Laboratory).where(Laboratory.site_id == site_id, Laboratory.name == name.strip())
    )


def get_laboratory(laboratory_id: int, *, actor: User) -> Laboratory | None:
    """The laboratory, when ``actor`` manages laboratories at its site; None when there is
    no such laboratory or it belongs to a site outside the actor's (so that it answers like
    a missing one)."""
    laboratory = db.session.get(Laboratory, laboratory_id)
    sites = sites_with(actor, Perm.MANAGE_LABORATORIES)
    if laboratory is None or (sites is not ALL_SITES and laboratory.site_id not in sites):
        return None
    return laboratory


def add_laboratory(site: Site, name: str, *, actor: User | None) -> Laboratory:
    """Declare a laboratory of ``site``.

    :raises PermissionDenied: the actor does not manage laboratories at that site.
    :raises RuleViolation: empty, too long or already used name (at the field ``name``).
    """
    if actor is not None:
        require_permission(actor, Perm.MANAGE_LABORATORIES, site.id)
    name = _name(name)
    if find_laboratory(site.id, name) is not None:
        raise RuleViolation(f"Site {site.code} already has a laboratory {name}.", field="name")
    laboratory = Laboratory(site_id=site.id, name=name)
    db.session.add(laboratory)
    db.session.flush()
    record_event(
        "laboratory_added",
        "laboratory",
        laboratory.id,
        actor=actor,
        site_id=site.id,
        field="name",
        new=name,
    )
    return laboratory


def rename_laboratory(laboratory: Laboratory, name: str, *, actor: User | None) -> None:
    """Rename a laboratory (values already entered keep the name they were entered with).

    :raises RuleViolation: empty, too long or already used name.
    """
    if actor is not None:
        require_permission(actor, Perm.MANAGE_LABORATORIES, laboratory.site_id)
    name = _name(name)
    if name == laboratory.name:
        return
    if find_laboratory(laboratory.site_id, name) is not None:
        raise RuleViolation(f"This site already has a laboratory {name}.", field="name")
    old, laboratory.name = laboratory.name, name
    db.session.flush()
    record_event(
        "laboratory_renamed",
        "laboratory",
        laboratory.id,
        actor=actor,
        site_id=laboratory.site_id,
        field="name",
        old=old,
        new=name,
    )


def add_range(
    study: LoadedStudy, laboratory: Laboratory, typed: RangeInput, *, actor: User | None
) -> ReferenceRange:
    """Add a normal range to a laboratory.

    :raises RuleViolation: at the field that is wrong: an analyte the trial does not
        capture, a unit its item does not accept, limits that are not numbers or are
        inverted, a period that ends before it starts, or a range that overlaps another
        of the same analyte, sex and age band in time (which would make the limits of a
        sample ambiguous) or gives the analyte another unit over the same period.
    """
    if actor is not None:
        require_permission(actor, Perm.MANAGE_LABORATORIES, laboratory.site_id)
    reference = ReferenceRange(laboratory_id=laboratory.id)
    _fill(study, laboratory, reference, typed)
    db.session.add(reference)
    laboratory.ranges.append(reference)
    db.session.flush()
    record_event(
        "laboratory_range_added",
        "laboratory",
        laboratory.id,
        actor=actor,
        site_id=laboratory.site_id,
        field=f"range {reference.id}",
        new=describe(reference),
    )
    return reference


def change_range(
    study: LoadedStudy,
    reference: ReferenceRange,
    typed: RangeInput,
    *,
    actor: User | None,
    reason: str,
) -> None:
    """Change a normal range (a correction: values already entered keep their limits).

    :raises RuleViolation: no reason, or what :func:`add_range` refuses.
    """
    laboratory = reference.laboratory
    if actor is not None:
        require_permission(actor, Perm.MANAGE_LABORATORIES, laboratory.site_id)
    if not reason.strip():
        raise RuleViolation("Give the reason for the change.", field="reason")
    old = describe(reference)
    _fill(study, laboratory, reference, typed)
    new = describe(reference)
    if new == old:
        return
    db.session.flush()
    record_event(
        "laboratory_range_changed",
        "laboratory",
        laboratory.id,
        actor=actor,
        site_id=laboratory.site_id,
        field=f"range {reference.id}",
        old=old,
        new=new,
        reason=reason.strip(),
    )


def describe(reference: ReferenceRange) -> str:
    """The range in one line, as the audit trail keeps it."""
    sex = {"M": "men", "F": "women"}.get(reference.sex or "", "both sexes")
    ages = f"{reference.age_low if reference.age_low is not None else 0}-"
    ages += f"{reference.age_high}" if reference.age_high is not None else ""
    until = reference.valid_to.isoformat() if reference.valid_to else "…"
    return (
        f"{reference.testcd} {reference.low_text or '–'} to {reference.high_text or '–'}"
        f" {reference.unit}; {sex}, age {ages}; {reference.valid_from.isoformat()} to {until}"
    )


@dataclass(frozen=True)
class Limits:
    """What the registry says of one analyte for one sample."""

    laboratory: str
    unit: str
    low: Decimal | None
    high: Decimal | None


def limits_for(
    laboratory: Laboratory | StoredLaboratory,
    testcd: str,
    on: date | None,
    sex: str | None,
    age: int | None,
) -> Limits | None:
    """The unit and limits the laboratory gives for ``testcd`` for a sample of ``on`` from a
    subject of ``sex`` and ``age``: the most specific applicable range (one for the
    subject's sex before one for both); None when none applies or the date is unknown."""
    if on is None:
        return None
    candidates = [r for r in laboratory.ranges if r.testcd == testcd and r.applies(on, sex, age)]
    if not candidates:
        return None
    best = max(candidates, key=lambda r: (r.sex is not None, r.age_low is not None, r.valid_from))
    return Limits(laboratory.name, best.unit, best.low, best.high)


def unit_for(laboratory: Laboratory | StoredLaboratory, testcd: str, on: date | None) -> str | None:
    """The unit the laboratory reports ``testcd`` in on ``on``, whatever the sex and age
    (ranges of one analyte that overlap in time share their unit: ``add_range``)."""
    if on is None:
        return None
    for reference in laboratory.ranges:
        ends = reference.valid_to or date.max
        if reference.testcd == testcd and reference.valid_from <= on <= ends:
            return reference.unit
    return None


# --- parsing what was typed ------------------------------------------------------------------


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise RuleViolation("Give the laboratory's name.", field="name")
    if len(name) > 120:
        raise RuleViolation("Use at most 120 characters.", field="name")
    return name


def _fill(
    study: LoadedStudy, laboratory: Laboratory, reference: ReferenceRange, typed: RangeInput
) -> None:
    known = analytes(study)
    analyte = known.get(typed.testcd)
    if analyte is None:
        raise RuleViolation("Choose an analyte of the lab forms.", field="testcd")
    symbols = [s for s, _ in analyte.units]
    if typed.unit not in symbols:
        labels = ", ".join(label for _, label in analyte.units)
        raise RuleViolation(
            f"{analyte.label} is entered in {labels}: choose one of them.", field="unit"
        )
    if typed.sex not in ("", *SEXES):
        raise RuleViolation("Choose men, women or both.", field="sex")
    age_low = _whole(typed.age_low, "age_low")
    age_high = _whole(typed.age_high, "age_high")
    if age_low is not None and age_high is not None and age_high <= age_low:
        raise RuleViolation("The age band ends before it starts.", field="age_high")
    low = _number(typed.low, "low")
    high = _number(typed.high, "high")
    if low is None and high is None:
        raise RuleViolation("Give the lower or the upper limit of normal (or both).", field="low")
    if low is not None and high is not None and low >= high:
        raise RuleViolation(
            "The lower limit must be below the upper limit of normal.", field="high"
        )
    valid_from = _day(typed.valid_from, "valid_from")
    if valid_from is None:
        raise RuleViolation("Give the first day the range applies.", field="valid_from")
    valid_to = _day(typed.valid_to, "valid_to")
    if valid_to is not None and valid_to < valid_from:
        raise RuleViolation("The range ends before it starts.", field="valid_to")
    candidate = ReferenceRange(
        testcd=typed.testcd,
        unit=typed.unit,
        sex=typed.sex or None,
        age_low=age_low,
        age_high=age_high,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    for other in laboratory.ranges:
        if other is reference or other.testcd != typed.testcd or not _overlap(other, candidate):
            continue
        if other.unit != typed.unit:
            raise RuleViolation(
                f"Over this period the laboratory reports {analyte.label.lower()} in"
                f" {analyte.unit_label(other.unit)}: end that range first (a unit changes on a"
                " date, for every sex and age).",
                field="unit",
            )
        if _same_people(other, candidate):
            raise RuleViolation(
                "Another range of this analyte already applies to these people over this"
                f" period ({describe(other)}): end it first, or change it.",
                field="valid_from",
            )
    reference.testcd = typed.testcd
    reference.unit = typed.unit
    reference.sex = typed.sex or None
    reference.age_low, reference.age_high = age_low, age_high
    reference.low_text = None if low is None else format(low, "f")
    reference.high_text = None if high is None else format(high, "f")
    reference.valid_from, reference.valid_to = valid_from, valid_to


def _overlap(a: ReferenceRange, b: ReferenceRange) -> bool:
    a_end, b_end = a.valid_to or date.max, b.valid_to or date.max
    return a.valid_from <= b_end and b.valid_from <= a_end


def _same_people(a: ReferenceRange, b: ReferenceRange) -> bool:
    if a.sex is not None and b.sex is not None and a.sex != b.sex:
        return False
    if a.sex != b.sex:  # one for one sex, one for both: the specific one wins, by design
        return False
    a_low, a_high = a.age_low or 0, a.age_high if a.age_high is not None else 1000
    b_low, b_high = b.age_low or 0, b.age_high if b.age_high is not None else 1000
    return a_low < b_high and b_low < a_high


def _whole(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > 150:
        raise RuleViolation("Give the age in whole years (0 to 150).", field=field)
    return int(text)


def _number(text: str, field: str) -> Decimal | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RuleViolation("Give a number, e.g. 1.8 or 150.", field=field) from None
    if not value.is_finite() or value < 0 or len(text) > 18:
        raise RuleViolation("Give a number of 0 or more, e.g. 1.8 or 150.", field=field)
    return value


def _day(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RuleViolation("Give a date as YYYY-MM-DD.", field=field) from None
