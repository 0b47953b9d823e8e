"""What the dashboards count in SQL agrees with the rules read in Python, value by value and
visit by visit, on the cases where the two could part: withdrawn and re-verified values,
removed rows, derived values, missing-data codes, values of items the definition no longer
has, sampled and unsampled subjects, repeated visits, sub-groups, subjects who left, visits
with forms but no date, references dated by a visit or offset from another."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.crf import services as crf
from ecrf.crf.visits import add_unscheduled_visit, set_visit_date
from ecrf.dashboards.board import compute
from ecrf.dashboards.scope import scope_for, visible_sites
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records.models import (
    EntryStatus,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Subject,
    SubjectStatus,
    SubjectVisit,
)
from ecrf.records.schedule_data import load_schedule_data
from ecrf.sdv import plan, progress
from ecrf.sdv import services as sdv
from ecrf.sdv.models import SitePlan, SourceVerification
from ecrf.sdv.services import SdvTarget
from ecrf.study import subjects
from ecrf.study.schedule import build_schedule
from forms.language import VisitKind
from tests.capture import entry_of

ENDED = {SubjectStatus.SCREEN_FAILURE, SubjectStatus.WITHDRAWN, SubjectStatus.COMPLETED}


def days_ago(n: int) -> str:
    return (utcnow().date() - timedelta(n)).isoformat()


def lesion(key: int) -> dict[str, str]:
    return {"LESID": f"L{key}", "SUVMAX": "12.5", "SUVMEAN": "6.1"}


@pytest.fixture
def trial(study, sites, staff, other_staff, investigator, monitor, save):
    """Subjects at both sites in every state the counts distinguish."""
    made = {}

    def register(name, code="BDX", d0=100, therapy="Y"):
        actor = staff if code == "BDX" else other_staff
        subject = subjects.register_subject(sites[code], actor=actor)
        db.session.commit()
        values = {"D0PLAN": days_ago(d0), "THERAPY": therapy} if d0 is not None else {}
        if values:
            save(subject, "SCR", "ENR", {("ENR", 1): values}, actor=actor)
        made[name] = subject
        return subject

    treated = register("treated")  # in the sub-group: its therapy visits are late
    register("untreated", therapy="N")  # out of it: they are not due
    register("no_d0", d0=None)  # no reference date: nothing is due
    left = register("left")
    subjects.change_status(study, left, SubjectStatus.INCLUDED, actor=investigator, reason="in")
    subjects.change_status(study, left, SubjectStatus.WITHDRAWN, actor=investigator, reason="out")
    failed = register("failed")
    subjects.change_status(
        study, failed, SubjectStatus.SCREEN_FAILURE, actor=investigator, reason="no"
    )
    set_visit_date(study, failed, "SCR", utcnow().date() - timedelta(110), actor=staff)
    # Screening dated outside its window (a deviation), its lab form complete.
    set_visit_date(
        study,
        treated,
        "SCR",
        utcnow().date() - timedelta(90),
        actor=staff,
        deviation_reason="came late",
    )
    save(treated, "SCR", "LB", {("LB", 1): {"LBDAT": days_ago(90), "HGB": "13"}}, complete=True)
    save(treated, "SCR", "DM", {("DM", 1): {"SEX": "M", "WEIGHT": "70", "HEIGHT": "175"}})
    # The baseline PET: forms entered, no date (not overdue); two lesions, one removed.
    save(treated, "BASE", "LES", {("LESION", 1): lesion(1), ("LESION", 2): lesion(2)})
    # Treatment done, in its window: T0 comes from its date, follow-up is due from it.
    dosed = register("dosed", code="TLS", d0=60)
    set_visit_date(study, dosed, "TX", utcnow().date() - timedelta(40), actor=other_staff)
    set_visit_date(study, dosed, "SCR", utcnow().date() - timedelta(70), actor=other_staff)
    # Repeated unscheduled visits hold values too.
    for key in (1, 2):
        add_unscheduled_visit(
            study, dosed, "UNS", utcnow().date() - timedelta(30 - key), actor=other_staff
        )
        db.session.commit()
        save(
            dosed,
            "UNS",
            "LB",
            {("LB", 1): {"LBDAT": days_ago(30 - key), "HGB": str(12 + key)}},
            visit_repeat=key,
            actor=other_staff,
        )
    db.session.commit()

    # Verifications: the treated subject's screening and lesions, then changes.
    sdv.verify(study, treated, SdvTarget("SCR", 1, "LB"), actor=monitor)
    sdv.verify(study, treated, SdvTarget("SCR", 1, "DM"), actor=monitor)
    sdv.verify(study, treated, SdvTarget("BASE", 1, "LES"), actor=monitor)
    sdv.verify(study, treated, SdvTarget("SCR", 1, "ENR"), actor=monitor)
    db.session.commit()
    save(
        treated, "SCR", "LB", {("LB", 1): {"LBDAT": days_ago(90), "HGB": "14"}}, reason="typo"
    )  # withdrawn
    save(treated, "SCR", "DM", {("DM", 1): {"SEX": "M", "WEIGHT": "72", "HEIGHT": "175"}})
    sdv.verify(study, treated, SdvTarget("SCR", 1, "DM"), actor=monitor)  # verified again
    entry = entry_of(treated, "BASE", "LES")
    crf.remove_row(
        study,
        treated,
        "BASE",
        "LES",
        "LESION",
        2,
        actor=None,
        reason="duplicate",
        expected_version=entry.version,
    )
    db.session.commit()
    # A missing-data code, and a value of an item the definition no longer has.
    row = db.session.scalar(
        sa.select(ItemGroupRow).where(ItemGroupRow.entry_id == entry_of(treated, "SCR", "LB").id)
    )
    db.session.add(ItemValue(row_id=row.id, item_oid="LBTIM", missing_code="ND"))
    db.session.add(ItemValue(row_id=row.id, item_oid="GONE", value_text="1"))
    # Every subject of BDX sampled; TLS at the definition's share.
    db.session.add(SitePlan(site_id=sites["BDX"].id, percentage=100, reason="findings"))
    db.session.commit()
    return made


# --- the rules read in Python, as the dashboards applied them before -------------------


def expected_progress(study, subject_rows, percentages):
    """(subject id) → {(visit, key, form): [captured, required, verified, withdrawn, beyond]}."""
    verifications = db.session.execute(
        sa.select(
            SourceVerification.entry_id,
            SourceVerification.group_oid,
            SourceVerification.repeat_key,
            SourceVerification.item_oid,
            SourceVerification.withdrawn_at.is_(None),
        )
    ).all()
    current = {tuple(v[:4]) for v in verifications if v[4]}
    withdrawn = {tuple(v[:4]) for v in verifications if not v[4]} - current
    values = db.session.execute(
        sa.select(
            FormEntry.id,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemValue.item_oid,
            Subject.id,
            FormEntry.form_oid,
            SubjectVisit.visit_oid,
            SubjectVisit.repeat_key,
            ItemGroupRow.removed,
            ItemValue.derived,
            ItemValue.value_text,
            ItemValue.missing_code,
        )
        .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
        .join(FormEntry, ItemGroupRow.entry_id == FormEntry.id)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .join(Subject, SubjectVisit.subject_id == Subject.id)
    ).all()
    found = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    sampled = {
        s.id: plan.sampled(study, s.identifier, percentages[s.site_id]) for s in subject_rows
    }
    for (
        entry,
        group,
        key,
        item,
        owner,
        form,
        visit,
        visit_key,
        removed,
        derived,
        text,
        code,
    ) in values:
        if removed or derived or (text is None and code is None):
            continue
        if owner not in sampled or not study.has_item(form, item):
            continue
        counts = found[owner][(visit, visit_key, form)]
        value_key = (entry, group, key, item)
        counts[0] += 1
        counts[3] += value_key in withdrawn
        if plan.is_critical(study, form) or sampled[owner]:
            counts[1] += 1
            counts[2] += value_key in current
        else:
            counts[4] += value_key in current
    return found


def as_counts(p: progress.Progress) -> list[int]:
    return [p.captured, p.required, p.verified, p.withdrawn, p.beyond]


def test_verification_counts_agree_value_by_value(study, sites, trial, datamanager):
    every = list(db.session.scalars(sa.select(Subject).order_by(Subject.id)))
    percentages = progress.site_percentages(study, list(sites.values()))
    expected = expected_progress(study, every, percentages)
    assert expected[trial["treated"].id][("SCR", 1, "LB")][3] == 1  # the case is there
    for by_form in (True, False):
        _, per_subject = progress.overview(study, list(sites.values()), by_form=by_form)
        for sp in per_subject:
            forms = expected.get(sp.subject.id, {})
            total = [sum(c[n] for c in forms.values()) for n in range(5)]
            assert as_counts(sp.progress) == total, sp.subject.identifier
            if by_form:
                assert {k: as_counts(p) for k, p in sp.forms.items()} == dict(forms)
                visits = defaultdict(lambda: [0] * 5)
                for (visit, key, _), counts in forms.items():
                    visits[(visit, key)] = [
                        a + b for a, b in zip(visits[(visit, key)], counts, strict=True)
                    ]
                assert {k: as_counts(p) for k, p in sp.visits.items()} == dict(visits)
    # One subject alone (its own verification page) counts the same.
    for name in ("treated", "dosed"):
        subject = trial[name]
        alone = progress.subject_progress(study, [subject], percentages)[subject.id]
        assert {k: as_counts(p) for k, p in alone.forms.items()} == dict(expected[subject.id])


def test_the_dashboard_lists_the_subjects_to_verify_as_counted_value_by_value(
    study, sites, trial, datamanager
):
    every = list(db.session.scalars(sa.select(Subject)))
    percentages = progress.site_percentages(study, list(sites.values()))
    expected = expected_progress(study, every, percentages)
    scope = scope_for(datamanager, visible_sites(datamanager))
    section = next(s for s in compute(study, scope) if s.key == "verification")
    by_identifier = {s.identifier: s.id for s in every}
    for row in section.rows:
        counts = expected[by_identifier[row.subject]].values()
        required, verified, withdrawn = (sum(c[n] for c in counts) for n in (1, 2, 3))
        assert (row.required, row.verified, row.withdrawn) == (required, verified, withdrawn)
    listed = {r.subject for r in section.rows}
    assert {
        i
        for i, s in by_identifier.items()
        if any(c[1] > c[2] or c[3] for c in expected[s].values())
    } == listed


def expected_slots(study, scope):
    """The visits and forms sections' rows as the schedule built in Python gives them."""
    every = list(
        db.session.scalars(
            sa.select(Subject)
            .where(Subject.site_id.in_(scope.site_ids))
            .order_by(Subject.site_id, Subject.number)
        )
    )
    data = load_schedule_data(study, every)
    today = scope.today
    late, forms = [], []
    for subject in every:
        for slot in build_schedule(study, data[subject.id]):
            if slot.definition.kind is not VisitKind.SCHEDULED:
                continue
            entries = data[subject.id].entries
            at_slot = {
                f: e.entry.status
                for (v, k, f), e in entries.items()
                if (v, k) == (slot.definition.oid, slot.repeat_key)
            }
            overdue = subject.status not in ENDED and slot.overdue(today) and not at_slot
            if overdue or slot.out_of_window:
                late.append(
                    (
                        subject.identifier,
                        slot.definition.oid,
                        slot.due,
                        slot.earliest,
                        slot.latest,
                        slot.visit_date,
                        (today - slot.latest).days if overdue else None,
                    )
                )
            if (
                subject.status is SubjectStatus.SCREEN_FAILURE
                or not slot.applicable
                or slot.visit_date is None
            ):
                continue
            for form in slot.definition.forms:
                status = at_slot.get(form)
                if status is not EntryStatus.COMPLETE:
                    state = "not_started" if status is None else status.value
                    forms.append((subject.identifier, slot.definition.oid, form, state))
    late.sort(key=lambda r: (r[-1] is None, -(r[-1] or 0), r[0]))
    return late, forms


@pytest.mark.parametrize("days_later", [0, 30])
def test_overdue_and_missing_agree_with_the_schedule_built_in_python(
    study, trial, datamanager, days_later
):
    now = utcnow() + timedelta(days=days_later)
    scope = scope_for(datamanager, visible_sites(datamanager), now)
    late, forms = expected_slots(study, scope)
    assert late and forms
    sections = {s.key: s for s in compute(study, scope)}
    assert [
        (r.subject, r.visit_oid, r.due, r.earliest, r.latest, r.visit_date, r.days_late)
        for r in sections["visits"].rows
    ] == late
    assert [(r.subject, r.visit_oid, r.form_oid, r.state) for r in sections["forms"].rows] == forms
    overdue = next(c for c in sections["visits"].columns if c.heading == "Visits overdue")
    assert overdue.total() == sum(1 for r in late if r[-1] is not None)
