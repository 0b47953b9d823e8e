"""The review of changes to critical items: what is listed (corrections of the critical
forms only), since the reviewer's last mark, filtered; marks scoped by site and filters,
audited; a monitor of one site sees nothing of another; administrators review nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.review import services
from ecrf.review.models import ReviewMark
from ecrf.review.services import ReviewFilters
from ecrf.study import subjects
from tests.capture import last_seq

DM = ("DM", 1)
ALL = ReviewFilters()


def listed(study, user, filters=ALL) -> list[tuple]:
    """(subject, form, field, old, new, reason, actor, reviewed) of the listed changes."""
    rows = db.session.execute(services.changes(study, user, filters)).all()
    return [
        (ident, form, e.field, e.old, e.new, e.reason, e.actor, reviewed is not None)
        for e, form, _visit, _repeat, ident, _site, reviewed in rows
    ]


@pytest.fixture
def tls_monitor(sites, create_user) -> User:
    return db.session.get(User, create_user("tls.monitor", Role.MONITOR, "TLS"))


@pytest.fixture
def corrected(subject, save, staff):
    """BDX-001: sex entered M then corrected to F, weight entered; labs entered then
    corrected (not critical)."""
    save(subject, "SCR", "DM", {DM: {"SEX": "M", "WEIGHT": "70"}})
    save(subject, "SCR", "DM", {DM: {"SEX": "F", "PREG": "N"}})
    save(subject, "SCR", "LB", {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}})
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": "12"}})
    return subject


def test_only_corrections_of_critical_forms_are_listed(study, corrected, monitor):
    assert listed(study, monitor) == [
        ("BDX-001", "DM", "DM[1].SEX", "M", "F", None, "bdx.nurse", False),
    ]


def test_a_mark_turns_the_changes_reviewed_and_later_ones_show_as_new(
    study, corrected, save, monitor
):
    seq = services.pending(study, monitor, ALL)[1]
    assert services.mark_reviewed(study, ALL, seq, actor=monitor) == 1
    db.session.commit()
    assert [row[-1] for row in listed(study, monitor)] == [True]
    save(corrected, "SCR", "DM", {DM: {"WEIGHT": "71"}})
    rows = listed(study, monitor)
    # New first, then reviewed.
    assert [(r[2], r[3], r[4], r[-1]) for r in rows] == [
        ("DM[1].WEIGHT", "70.0", "71.0", False),
        ("DM[1].SEX", "M", "F", True),
    ]
    assert [r[2] for r in listed(study, monitor, ReviewFilters(show="new"))] == ["DM[1].WEIGHT"]
    assert [r[2] for r in listed(study, monitor, ReviewFilters(show="reviewed"))] == ["DM[1].SEX"]
    counts = services.counts(study, monitor, ALL)
    assert (counts.new, counts.total) == (1, 2)
    assert counts.by_site == {"BDX": services.Tally(1, 2)}
    assert counts.by_user == {"bdx.nurse": services.Tally(1, 2)}
    assert set(counts.last_marks) == {"BDX"}


def test_marks_are_the_reviewers_own(study, corrected, monitor, investigator):
    seq = services.pending(study, monitor, ALL)[1]
    services.mark_reviewed(study, ALL, seq, actor=monitor)
    db.session.commit()
    assert [row[-1] for row in listed(study, investigator)] == [False]


def test_a_mark_is_audited_at_its_site(study, corrected, monitor, sites):
    seq = services.pending(study, monitor, ALL)[1]
    services.mark_reviewed(study, ReviewFilters(form="DM"), seq, actor=monitor)
    db.session.commit()
    mark = db.session.scalar(sa.select(ReviewMark))
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "audit_reviewed"))
    assert (mark.reviewer_id, mark.site_id, mark.form_oid, mark.up_to_seq) == (
        monitor.id,
        sites["BDX"].id,
        "DM",
        seq,
    )
    assert (event.entity, event.entity_id, event.actor, event.site_id) == (
        "review_mark",
        str(mark.id),
        "bdx.monitor",
        sites["BDX"].id,
    )
    assert event.new.startswith("1 change(s) up to event")


def test_a_mark_under_a_filter_covers_only_what_the_filter_shows(study, corrected, save, monitor):
    save(corrected, "SCR", "DM", {DM: {"WEIGHT": "72"}})
    sex = ReviewFilters(item="SEX")
    services.mark_reviewed(study, sex, last_seq(), actor=monitor)
    db.session.commit()
    assert {(r[2], r[-1]) for r in listed(study, monitor)} == {
        ("DM[1].SEX", True),
        ("DM[1].WEIGHT", False),
    }
    # Marked by who changed it: another user's changes stay new.
    with pytest.raises(RuleViolation, match="Nothing new"):
        services.mark_reviewed(
            study, ReviewFilters(changed_by="someone.else"), last_seq(), actor=monitor
        )


def test_a_change_made_after_the_page_was_shown_stays_new(study, corrected, save, monitor):
    shown = services.pending(study, monitor, ALL)[1]
    save(corrected, "SCR", "DM", {DM: {"WEIGHT": "73"}})
    assert services.mark_reviewed(study, ALL, shown, actor=monitor) == 1
    db.session.commit()
    assert {(r[2], r[-1]) for r in listed(study, monitor)} == {
        ("DM[1].SEX", True),
        ("DM[1].WEIGHT", False),
    }


@pytest.mark.parametrize("up_to", [None, 0, 10**6])
def test_a_mark_up_to_no_position_of_the_trail_is_refused(study, corrected, monitor, up_to):
    with pytest.raises(RuleViolation, match="out of date"):
        services.mark_reviewed(study, ALL, up_to, actor=monitor)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewMark)) == 0


def test_nothing_new_is_refused(study, corrected, monitor):
    seq = last_seq()
    services.mark_reviewed(study, ALL, seq, actor=monitor)
    with pytest.raises(RuleViolation, match="Nothing new"):
        services.mark_reviewed(study, ALL, seq, actor=monitor)


def test_a_monitor_of_one_site_sees_and_marks_nothing_of_another(
    study, corrected, tls_monitor, sites, other_staff, save
):
    assert listed(study, tls_monitor) == []
    counts = services.counts(study, tls_monitor, ALL)
    assert (counts.total, counts.by_site) == (0, {})
    parsed = services.parse_filters(study, tls_monitor, {"site": "BDX"})
    assert parsed.errors == {"site": "You review no site BDX."}
    assert parsed.filters.site_id is None
    with pytest.raises(RuleViolation, match="Nothing new"):
        services.mark_reviewed(study, ALL, last_seq(), actor=tls_monitor)
    # Its own site's changes it does see.
    tls = subjects.register_subject(sites["TLS"], actor=other_staff)
    save(tls, "SCR", "DM", {DM: {"SEX": "M"}}, actor=other_staff)
    save(tls, "SCR", "DM", {DM: {"SEX": "F", "PREG": "N"}}, actor=other_staff)
    assert [r[0] for r in listed(study, tls_monitor)] == ["TLS-001"]


def test_administrators_and_the_sponsor_review_nothing(study, corrected, create_user, monitor):
    for username, role in (("admin", Role.ADMIN), ("sponsor", Role.SPONSOR)):
        user = db.session.get(User, create_user(username, role))
        assert listed(study, user) == []
        with pytest.raises(PermissionDenied):
            services.mark_reviewed(study, ALL, last_seq(), actor=user)


def test_filters_by_site_user_form_and_item(study, corrected, save, monitor, investigator, sites):
    save(corrected, "SCR", "DM", {DM: {"WEIGHT": "74"}}, actor=investigator)
    fields = lambda **f: [r[2] for r in listed(study, monitor, ReviewFilters(**f))]  # noqa: E731
    assert fields(changed_by="bdx.investigator") == ["DM[1].WEIGHT"]
    assert fields(item="SEX") == ["DM[1].SEX"]
    assert fields(form="AE") == []
    assert fields(site_id=sites["BDX"].id) == ["DM[1].WEIGHT", "DM[1].SEX"]
    counts = services.counts(study, monitor, ReviewFilters(item="WEIGHT"))
    assert counts.by_user == {"bdx.investigator": services.Tally(1, 1)}


def test_removed_rows_of_a_critical_log_are_changes(study, subject, save, monitor, staff):
    from ecrf.crf.services import remove_row
    from tests.capture import entry_of

    ae = {"AETERM": "Nausea", "AESTDAT": "2024-05-03", "AESER": "N"}
    save(subject, "LOGS", "AE", {("AE", 1): ae, ("AE", 2): {**ae, "AETERM": "Fatigue"}})
    entry = entry_of(subject, "LOGS", "AE")
    remove_row(
        study,
        subject,
        "LOGS",
        "AE",
        "AE",
        2,
        actor=staff,
        expected_version=entry.version,
        reason="Entered twice",
    )
    db.session.commit()
    rows = listed(study, monitor)
    assert [(r[1], r[2], r[5]) for r in rows] == [("AE", "AE[2]", "Entered twice")]
    assert services.describe_field(study, "AE", "AE[2]") == "Adverse events #2"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"site": "XX"}, "site"),
        ({"form": "LB"}, "form"),
        ({"form": "NOPE"}, "form"),
        ({"item": "HGB"}, "item"),
        ({"form": "AE", "item": "SEX"}, "item"),
        ({"user": "x" * 81}, "user"),
        ({"show": "everything"}, "show"),
    ],
)
def test_bad_filters_get_a_message_at_their_field(study, monitor, args, field):
    parsed = services.parse_filters(study, monitor, args)
    assert list(parsed.errors) == [field]
    assert parsed.filters == ReviewFilters(form=args.get("form") if field == "item" else None)


def test_good_filters_are_kept(study, monitor, sites):
    parsed = services.parse_filters(
        study, monitor, {"site": "bdx", "form": "DM", "item": "SEX", "user": " n ", "show": "new"}
    )
    assert parsed.errors == {}
    assert parsed.filters == ReviewFilters(sites["BDX"].id, "BDX", "n", "DM", "SEX", "new")
    assert parsed.filters.args() == {
        "site": "BDX",
        "user": "n",
        "form": "DM",
        "item": "SEX",
        "show": "new",
    }


def test_audit_verify_holds_the_marks_against_the_trail(study, corrected, monitor, investigator):
    from ecrf.integrity import verify_trail

    services.mark_reviewed(study, ReviewFilters(form="DM"), last_seq(), actor=monitor)
    db.session.commit()
    assert verify_trail().intact
    mark = db.session.scalar(sa.select(ReviewMark))
    # Widened in the database (every form, up to later events): seen.
    db.session.execute(sa.update(ReviewMark).where(ReviewMark.id == mark.id).values(form_oid=None))
    db.session.commit()
    found = verify_trail()
    assert not found.intact
    assert "review mark 1 is not the mark the trail recorded" in found.problems.shown
    # Planted for another reviewer without an event: seen too.
    db.session.add(
        ReviewMark(reviewer_id=investigator.id, site_id=mark.site_id, up_to_seq=last_seq())
    )
    db.session.commit()
    assert "review mark 2 has no event in the trail" in verify_trail().problems.shown
