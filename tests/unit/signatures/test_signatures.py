"""Investigator e-signatures (21 CFR 11.50, 11.70, 11.100, 11.200; R6-R10, R13, R30):
only investigators sign, at their subject's site, each for themselves, re-entering the
password each time and the username too at the first signing of a session; a signature
keeps the printed name, the UTC time and its meaning, is bound to the hash of its content,
and is invalidated (saying why) by any later change to that content."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ecrf.auth import services as accounts
from ecrf.auth.models import LoginThrottle, User
from ecrf.auth.roles import Role
from ecrf.crf import services as crf
from ecrf.crf.visits import set_visit_date
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.models import ItemValue, SubjectStatus
from ecrf.signatures import services as signatures
from ecrf.signatures.content import ScopeKey, SubjectContent
from ecrf.signatures.models import ChangeKind, Scope, Signature, SignatureState
from ecrf.study import subjects
from tests.capture import entry_of, events
from tests.conftest import PASSWORD

SCR = ScopeKey(Scope.VISIT, "SCR", 1)
BASE = ScopeKey(Scope.VISIT, "BASE", 1)
CASEBOOK = ScopeKey(Scope.CASEBOOK)
INCLUSION = ScopeKey(Scope.INCLUSION)
LB = {("LB", 1): {"LBDAT": "2024-05-02", "HGB": "13"}}
LESIONS = {
    ("ORG", 1): {"LIVSUV": "2.0"},
    ("LESION", 1): {"LESID": "L1", "SUVMAX": "10"},
    ("LESION", 2): {"LESID": "L2", "SUVMAX": "12"},
}


@pytest.fixture
def tls_investigator(sites, create_user) -> User:
    return db.session.get(User, create_user("tls.investigator", Role.INVESTIGATOR, "TLS"))


@pytest.fixture
def other_investigator(sites, create_user) -> User:
    """A second investigator at BDX."""
    return db.session.get(User, create_user("bdx.coinvestigator", Role.INVESTIGATOR, "BDX"))


@pytest.fixture
def data(subject, save):
    """BDX-001 with its screening labs and baseline lesions, both complete."""
    save(subject, "SCR", "LB", LB, complete=True)
    save(subject, "BASE", "LES", LESIONS, complete=True)
    return subject


def sign(study, subject, key=SCR, actor=None, **options):
    options.setdefault("password", PASSWORD)
    options.setdefault("username", actor.username if actor else None)
    result = signatures.sign(study, subject, key, actor=actor, **options)
    db.session.commit()
    return result


def hashes(study, subject, *keys):
    content = SubjectContent.load(subject)
    return [content.hash(study, key) for key in keys]


def change_hgb(save, subject, value="14", actor=None):
    options = {"actor": actor} if actor else {}
    save(subject, "SCR", "LB", {("LB", 1): {"HGB": value}}, reason="transcription", **options)


# --- the content and its hash (11.70) -----------------------------------------------------


def test_the_hash_changes_with_each_part_of_the_content_and_not_otherwise(
    study, data, save, staff, investigator, monitor
):
    keys = (SCR, BASE, CASEBOOK)
    scr, base, casebook = hashes(study, data, *keys)
    assert len({scr, base, casebook}) == 3
    # Read again, nothing changed: the same hashes.
    assert hashes(study, data, *keys) == [scr, base, casebook]
    # Neither a query nor completing an already complete form is signed content.
    queries.open_query(study, data, QueryTarget("SCR", 1, "LB", item_oid="HGB"), "?", actor=monitor)
    db.session.commit()
    assert hashes(study, data, *keys) == [scr, base, casebook]

    # A value: the visit and the casebook change, not the other visit.
    change_hgb(save, data)
    scr2, base2, casebook2 = hashes(study, data, *keys)
    assert scr2 != scr and casebook2 != casebook and base2 == base

    # The unit a value was entered in.
    value = db.session.scalar(sa.select(ItemValue).where(ItemValue.item_oid == "HGB"))
    value.unit = "g/L"
    db.session.flush()
    scr3, _, _ = hashes(study, data, *keys)
    assert scr3 != scr2
    db.session.rollback()

    # A row removed.
    version = entry_of(data, "BASE", "LES").version
    crf.remove_row(
        study, data, "BASE", "LES", "LESION", 2, actor=staff, reason="dup", expected_version=version
    )
    db.session.commit()
    _, base3, casebook3 = hashes(study, data, *keys)
    assert base3 != base2 and casebook3 != casebook2

    # A visit date.
    set_visit_date(study, data, "SCR", date(2024, 5, 2), actor=staff)
    db.session.commit()
    scr4, base4, casebook4 = hashes(study, data, *keys)
    assert scr4 != scr2 and base4 == base3 and casebook4 != casebook3

    # The subject's status: the casebook only; the decision: the inclusion decision.
    before = hashes(study, data, INCLUSION)[0]
    subjects.change_status(study, data, SubjectStatus.INCLUDED, actor=investigator, reason="ok")
    db.session.commit()
    scr5, base5, casebook5 = hashes(study, data, *keys)
    assert (scr5, base5) == (scr4, base4) and casebook5 != casebook4
    assert hashes(study, data, INCLUSION)[0] != before


def test_the_same_data_of_another_subject_hash_differently(study, sites, staff, save):
    """A signature cannot be carried to another record: the subject is in the content."""
    first = subjects.register_subject(sites["BDX"], actor=staff)
    second = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    save(first, "SCR", "LB", LB, complete=True)
    save(second, "SCR", "LB", LB, complete=True)
    assert hashes(study, first, SCR) != hashes(study, second, SCR)


def test_the_canonical_form_holds_values_units_rows_and_dates(study, data):
    canonical = SubjectContent.load(data).canonical(study, BASE).decode()
    assert '"subject":"BDX-001"' in canonical
    assert '"LESION[2]":{"reason":null,"removed":false,"values":{"LESID":["L2",null,null]' in (
        canonical
    )


# --- signing (11.50, 11.200) ---------------------------------------------------------------


def test_an_investigator_signs_a_visit_with_name_time_and_meaning_kept(study, data, investigator):
    result = sign(study, data, actor=investigator)
    signature = result.signature
    assert signature is not None and signature.valid
    assert signature.printed_name == investigator.full_name
    assert signature.role == "investigator"
    assert signature.signer_id == investigator.id
    assert signature.signed_at.tzinfo is not None  # UTC, stored with its zone
    assert signature.meaning.startswith("I attest that I have reviewed the data of the visit")
    assert "Screening" in signature.meaning and "BDX-001" in signature.meaning
    assert signature.content_hash == hashes(study, data, SCR)[0]
    [event] = events(signature.id, entity="signature")
    assert (event.action, event.actor, event.field, event.new, event.reason) == (
        "signature_signed",
        investigator.username,
        "BDX-001/visit/SCR[1]",
        signature.content_hash,
        signature.meaning,
    )


def test_the_inclusion_decision_and_the_casebook_are_signed(study, data, investigator):
    with pytest.raises(RuleViolation, match="not been made"):
        sign(study, data, INCLUSION, actor=investigator)
    db.session.rollback()
    subjects.change_status(study, data, SubjectStatus.INCLUDED, actor=investigator, reason="ok")
    db.session.commit()
    inclusion = sign(study, data, INCLUSION, actor=investigator).signature
    assert "(included)" in inclusion.meaning
    casebook = sign(
        study, data, CASEBOOK, actor=investigator, username=None, username_required=False
    ).signature
    assert "whole casebook" in casebook.meaning
    # Moving on to follow-up leaves the inclusion decision as signed; the casebook is not.
    subjects.change_status(
        study, data, SubjectStatus.IN_FOLLOW_UP, actor=investigator, reason="first cycle"
    )
    db.session.commit()
    assert (inclusion.state, casebook.state) == (SignatureState.VALID, SignatureState.INVALIDATED)
    assert (casebook.change_kind, casebook.change_where) == (
        ChangeKind.STATUS,
        "BDX-001 → In follow-up",
    )
    assert signatures.why_invalid(study, casebook).startswith(
        "The subject's status changed after signing: BDX-001 → In follow-up, by Bdx.Investigator"
    )


@pytest.mark.parametrize("who", ["staff", "monitor", "tls_investigator", "nobody"])
def test_only_an_investigator_of_the_subjects_site_signs(request, study, data, who):
    actor = None if who == "nobody" else request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        signatures.sign(study, data, SCR, actor=actor, password=PASSWORD, username="x")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


@pytest.mark.parametrize("role", [Role.DATA_MANAGER, Role.SPONSOR])
def test_data_managers_and_sponsors_do_not_sign(study, data, create_user, role):
    actor = db.session.get(User, create_user(f"x.{role.value}", role))
    with pytest.raises(PermissionDenied):
        signatures.sign(study, data, SCR, actor=actor, password=PASSWORD, username=actor.username)


def test_nobody_signs_with_someone_elses_username(study, data, investigator, other_investigator):
    """Both components must be the signer's own: a colleague's username (even with the
    right password for it) signs nothing; it is audited and counted."""
    result = sign(study, data, actor=investigator, username=other_investigator.username)
    assert result.signature is None and result.field == "username"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0
    [failed] = events(investigator.username, "identity_check_failed", entity="user")
    assert (failed.actor, failed.reason, failed.field) == (
        investigator.username,
        "wrong username",
        "signature BDX-001/visit/SCR[1]",
    )


def test_the_first_signing_needs_the_username_later_ones_the_password(study, data, investigator):
    with pytest.raises(RuleViolation) as refused:
        signatures.sign(study, data, SCR, actor=investigator, password=PASSWORD, username="")
    assert refused.value.field == "username"
    db.session.rollback()
    assert sign(study, data, actor=investigator).signature is not None
    # Later in the session: the password alone (the username, if sent, is not asked for).
    later = sign(study, data, BASE, actor=investigator, username=None, username_required=False)
    assert later.signature is not None
    with pytest.raises(RuleViolation) as refused:
        signatures.sign(
            study, data, CASEBOOK, actor=investigator, password="", username_required=False
        )
    assert refused.value.field == "password"


def test_a_wrong_password_signs_nothing_is_audited_and_counts_towards_lockout(
    app, study, data, investigator
):
    result = sign(study, data, actor=investigator, password="wrong password")
    assert (result.signature, result.field) == (None, "password")
    assert result.refusal == "Wrong username or password."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0
    assert not events(1, entity="signature")
    [failed] = events(investigator.username, "identity_check_failed", entity="user")
    assert failed.reason == "wrong password"
    counter = db.session.get(LoginThrottle, (investigator.username, "local"))
    assert counter.failures == 1
    for _ in range(app.config["LOCKOUT_THRESHOLD"] - 1):
        sign(study, data, actor=investigator, password="wrong password")
    assert events(investigator.username, "lockout", entity="user")
    # Blocked: even the right password signs nothing now.
    blocked = sign(study, data, actor=investigator)
    assert blocked.signature is None and "blocked" in blocked.refusal
    assert events(investigator.username, "identity_check_refused_locked", entity="user")
    assert verify_trail().intact


def test_signing_over_open_queries_needs_explicit_confirmation(study, data, investigator, monitor):
    queries.open_query(study, data, QueryTarget("SCR", 1, "LB", item_oid="HGB"), "?", actor=monitor)
    db.session.commit()
    with pytest.raises(RuleViolation, match="1 query on these data is not closed") as refused:
        sign(study, data, actor=investigator)
    assert refused.value.field == "confirm_open_queries"
    db.session.rollback()
    # The other visit has no query: no confirmation asked.
    assert sign(study, data, BASE, actor=investigator).signature.open_queries == 0
    signature = sign(
        study, data, actor=investigator, confirm_open_queries=True, username_required=False
    ).signature
    assert signature.open_queries == 1
    assert [e.action for e in events(signature.id, entity="signature")] == [
        "signature_signed",
        "signature_over_open_queries",
    ]


def test_nothing_incomplete_empty_or_already_signed_is_signed(study, subject, save, investigator):
    with pytest.raises(RuleViolation, match="no data"):
        sign(study, subject, actor=investigator)
    db.session.rollback()
    with pytest.raises(NotFound):
        sign(study, subject, ScopeKey(Scope.VISIT, "NOPE", 1), actor=investigator)
    db.session.rollback()
    save(subject, "SCR", "LB", LB)
    with pytest.raises(RuleViolation, match=r"Complete these forms before signing: Haematology"):
        sign(study, subject, actor=investigator)
    db.session.rollback()
    save(subject, "SCR", "LB", {}, complete=True)
    sign(study, subject, actor=investigator)
    with pytest.raises(RuleViolation, match="signed already"):
        sign(study, subject, actor=investigator)


# --- invalidation (11.70, R8, R30) ---------------------------------------------------------


def test_a_later_change_invalidates_the_signature_and_says_why(
    study, data, save, investigator, staff
):
    scr = sign(study, data, actor=investigator).signature
    base = sign(study, data, BASE, actor=investigator).signature
    casebook = sign(study, data, CASEBOOK, actor=investigator).signature
    signed_hash = scr.content_hash
    change_hgb(save, data, actor=staff)
    db.session.refresh(scr)
    assert scr.state is SignatureState.INVALIDATED
    assert (scr.change_kind, scr.change_where, scr.invalidated_by_id) == (
        ChangeKind.FORM_SAVED,
        "SCR[1]/LB LB[1].HGB",
        staff.id,
    )
    assert scr.content_hash == signed_hash  # what was signed stays as it was
    why = signatures.why_invalid(study, scr)
    place = " › ".join(
        (study.visits["SCR"].name, study.forms["LB"].name, study.item("LB", "HGB")[1].label)
    )
    assert why.startswith(f"Data changed after signing: {place}, by Bdx.Nurse")
    assert "UTC" in why
    assert casebook.state is SignatureState.INVALIDATED
    assert base.valid  # another visit's data did not change
    [event] = events(scr.id, "signature_invalidated", entity="signature")
    assert (event.actor, event.old, event.reason) == (
        staff.username,
        signed_hash,
        "form_saved: SCR[1]/LB LB[1].HGB",
    )
    # A save that changes nothing of it leaves a new signature alone; signing again works.
    again = sign(study, data, actor=investigator).signature
    save(data, "SCR", "LB", {("LB", 1): {"HGB": "14"}}, reason="same")
    assert again.valid and signatures.current(data, SCR) is again


def test_removing_a_row_and_redating_a_visit_invalidate(study, data, investigator, staff):
    base = sign(study, data, BASE, actor=investigator).signature
    scr = sign(study, data, actor=investigator).signature
    version = entry_of(data, "BASE", "LES").version
    crf.remove_row(
        study, data, "BASE", "LES", "LESION", 2, actor=staff, reason="dup", expected_version=version
    )
    db.session.commit()
    assert (base.state, base.change_kind, base.change_where) == (
        SignatureState.INVALIDATED,
        ChangeKind.ROW_REMOVED,
        "BASE[1]/LES LESION[2]",
    )
    assert scr.valid
    set_visit_date(study, data, "SCR", date(2024, 5, 2), actor=staff)
    db.session.commit()
    assert (scr.state, scr.change_kind, scr.change_where) == (
        SignatureState.INVALIDATED,
        ChangeKind.VISIT_DATE,
        "SCR[1]",
    )


# --- the audit check (R1, R8) -------------------------------------------------------------


def test_audit_verify_sees_signatures_tampered_with_or_stale(study, data, save, investigator):
    scr = sign(study, data, actor=investigator).signature
    change_hgb(save, data)
    sign(study, data, actor=investigator)
    assert verify_trail().intact
    # Revalidated in the database, behind the application's back.
    scr.state = SignatureState.VALID
    db.session.commit()
    problems = verify_trail().problems.shown
    assert any(
        f"signature {scr.id} (BDX-001/visit/SCR[1]) is valid but the trail" in p for p in problems
    )
    assert any(
        f"signature {scr.id} (BDX-001/visit/SCR[1]) is marked valid but the content" in p
        for p in problems
    )


def test_audit_verify_sees_a_value_changed_under_a_valid_signature(study, data, investigator):
    sign(study, data, actor=investigator)
    value = db.session.scalar(sa.select(ItemValue).where(ItemValue.item_oid == "HGB"))
    value.value_text = "15"
    db.session.commit()
    shown = verify_trail().problems.shown
    assert any("is marked valid but the content it signed has changed" in p for p in shown)


def test_a_signature_moved_to_another_subject_is_seen(
    study, data, sites, staff, save, investigator
):
    """11.70: a signature cannot be carried to another record unnoticed."""
    signature = sign(study, data, actor=investigator).signature
    other = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    save(other, "SCR", "LB", LB, complete=True)
    signature.subject_id = other.id
    db.session.commit()
    shown = verify_trail().problems.shown
    assert any(
        f"signature {signature.id} is of BDX-002/visit/SCR[1] but the trail signed "
        "BDX-001/visit/SCR[1]" in p
        for p in shown
    )


def test_a_deactivated_investigator_signs_nothing(study, data, investigator, create_user):
    """11.100: a signature belongs to one active individual account."""
    manager = db.session.get(User, create_user("data.manager", Role.DATA_MANAGER))
    accounts.deactivate_user(investigator, actor=manager, reason="left the site")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        signatures.sign(
            study, data, SCR, actor=investigator, password=PASSWORD, username="bdx.investigator"
        )


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("BASE[1]/LES LESION[2].SUVMAX", "{BASE} › {LES} › {SUVMAX} (row 2)"),
        ("BASE[1]/LES LESION[2]", "{BASE} › {LES} › {LESION} (row 2)"),
        ("BASE[1]", "{BASE}"),
        # Names the definition does not know are kept as the trail wrote them.
        ("BASE[1]/LES LESION[2].NOSUCH", "BASE[1]/LES LESION[2].NOSUCH"),
        ("NOVISIT[1]/LES", "NOVISIT[1]/LES"),
        ("BDX-001 → In follow-up", "BDX-001 → In follow-up"),
    ],
)
def test_the_place_of_a_change_reads_as_labels(study, where, words):
    labels = {
        "BASE": study.visits["BASE"].name,
        "LES": study.forms["LES"].name,
        "SUVMAX": study.item("LES", "SUVMAX")[1].label,
        "LESION": study.group("LES", "LESION").label,
    }
    assert signatures.where_words(study, where) == words.format(**labels)
