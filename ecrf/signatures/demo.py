"""Demo signatures (``ecrf demo``): the investigator of each demo site signs, through the
signing service and with their password, a visit and the inclusion decision of a subject
(valid), and a visit of another subject whose data the site then corrects through the
write path (invalidated, with why)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from ecrf.auth import services as accounts
from ecrf.auth.models import RoleAssignment, User
from ecrf.auth.roles import Role
from ecrf.errors import DomainError
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import EntryStatus, FormEntry, Subject, SubjectVisit
from ecrf.signatures import services
from ecrf.signatures.content import ScopeKey, SubjectContent
from ecrf.signatures.models import Scope, Signature, SignatureState
from forms.language import DataType

SIGNED = "Demo signatures: {valid} valid, {invalid} invalidated by a later correction."
NONE = "Demo signatures: none added (signatures exist already, or no investigator password)."
CORRECTION = "Transcription error (demo correction after signature)."


def _signable_visits(study, content: SubjectContent) -> list[tuple[str, int]]:
    order = {v.oid: n for n, v in enumerate(study.visits_in_order())}
    in_order = sorted(content.visits.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0]))
    return [
        key
        for key, visit in in_order
        if visit["forms"]
        and key[0] in study.visits
        and study.visits[key[0]].kind.value != "log"
        and all(f["status"] is EntryStatus.COMPLETE for f in visit["forms"].values())
    ]


def _correction(study, content: SubjectContent, visit: tuple[str, int]):
    """A decimal value of the visit to correct by one unit of its last decimal place."""
    for form_oid, form in sorted(content.visits[visit]["forms"].items()):
        for row_key, row in sorted(form["rows"].items()):
            group_oid, repeat = row_key.split("[")[0], int(row_key.split("[")[1][:-1])
            for item_oid, (text, _, missing) in sorted(row["values"].items()):
                if missing or not text or not study.has_item(form_oid, item_oid):
                    continue
                item = study.item(form_oid, item_oid)[1]
                if item.type is not DataType.DECIMAL or item.derived or item.multi_unit:
                    continue
                try:
                    value = Decimal(text)
                except InvalidOperation:
                    continue
                step = Decimal(1).scaleb(value.as_tuple().exponent)
                yield form_oid, group_oid, repeat, item_oid, str(value + step)


def seed_demo_signatures(
    passwords: Iterable[tuple[str, str]], save_form: Callable[..., object]
) -> str:
    """Sign as each demo investigator (``passwords``: (username, password) of the demo
    accounts), then correct one signed visit with ``save_form`` (the write path, given by
    the caller above this package) as the site's staff. Nothing when signatures exist."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Signature)):
        return NONE
    study = current_study()
    for username, password in passwords:
        investigator = accounts.get_user(username)
        if investigator is None or not any(r.role is Role.INVESTIGATOR for r in investigator.roles):
            continue
        for site_id in [r.site_id for r in investigator.roles if r.role is Role.INVESTIGATOR]:
            staff = _staff_of(site_id)
            subjects = db.session.scalars(
                sa.select(Subject).where(Subject.site_id == site_id).order_by(Subject.number)
            ).all()
            first = True
            signed_subjects = 0
            for subject in subjects:
                content = SubjectContent.load(subject)
                visits = _signable_visits(study, content)
                if not visits or content.decision() is None:
                    continue
                keys = [ScopeKey(Scope.VISIT, *visits[0]), ScopeKey(Scope.INCLUSION)]
                made = []
                for key in keys:
                    try:
                        with db.session.begin_nested():
                            result = services.sign(
                                study,
                                subject,
                                key,
                                actor=investigator,
                                password=password,
                                username=username,
                                username_required=first,
                                confirm_open_queries=True,
                            )
                    except DomainError:
                        continue
                    if result.signature is not None:
                        made.append(result.signature)
                        first = False
                if not made:
                    continue
                signed_subjects += 1
                if signed_subjects == 2 and staff is not None:
                    _correct(study, subject, content, visits[0], staff, save_form)
                if signed_subjects >= 3:
                    break
    states = Counter(db.session.scalars(sa.select(Signature.state)))
    if not states:
        return NONE
    return SIGNED.format(
        valid=states[SignatureState.VALID], invalid=states[SignatureState.INVALIDATED]
    )


def _staff_of(site_id: int) -> User | None:
    return db.session.scalar(
        sa.select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == Role.SITE_STAFF, RoleAssignment.site_id == site_id)
        .order_by(User.id)
        .limit(1)
    )


def _correct(study, subject, content, visit, staff, save_form) -> bool:
    """Correct one value of ``visit`` (the first the write path accepts)."""
    for form_oid, group_oid, repeat, item_oid, new in _correction(study, content, visit):
        entry = db.session.scalar(
            sa.select(FormEntry)
            .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
            .where(
                SubjectVisit.subject_id == subject.id,
                SubjectVisit.visit_oid == visit[0],
                SubjectVisit.repeat_key == visit[1],
                FormEntry.form_oid == form_oid,
            )
        )
        try:
            with db.session.begin_nested():
                save_form(
                    study,
                    subject,
                    visit[0],
                    form_oid,
                    {(group_oid, repeat): {item_oid: new}},
                    actor=staff,
                    expected_version=entry.version,
                    visit_repeat=visit[1],
                    reason=CORRECTION,
                )
        except DomainError:  # a value the rules refuse: try the next one
            continue
        return True
    return False
