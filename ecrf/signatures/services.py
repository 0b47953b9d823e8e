"""Sign a visit, the inclusion decision or a casebook; invalidate signatures whose content
changed.

Only investigators sign (``Perm.SIGN`` at the subject's site), each for themselves: the
signer is the signed-in user, who re-enters their password at each signing, and their
username too at the first signing of a session (21 CFR 11.200(a)(1)). A signature keeps
the printed name, the UTC time and the meaning shown (11.50) and is bound to the SHA-256
of the content it signs (11.70): any later write that changes that content invalidates it,
saying what changed, who changed it and when. Every function flushes and records its
audit events; none commits.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth import services as accounts
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission
from ecrf.auth.roles import Perm, Role
from ecrf.db import utcnow
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.queries.models import Query, QueryState
from ecrf.records.data import as_loaded, plain_rows
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import EntryStatus, Subject
from ecrf.signatures.content import ScopeKey, SubjectContent
from ecrf.signatures.models import ChangeKind, Scope, Signature, SignatureState

#: The meaning of each kind of signature, shown before signing and kept verbatim with it.
MEANINGS = {
    Scope.VISIT: (
        "I attest that I have reviewed the data of the visit {visit} of subject {subject} "
        "and that, to the best of my knowledge, they are accurate and complete."
    ),
    Scope.INCLUSION: (
        "I attest that I have reviewed the eligibility of subject {subject} and that the "
        "decision recorded ({decision}) is mine."
    ),
    Scope.CASEBOOK: (
        "I attest that I have reviewed the whole casebook of subject {subject} and that, to "
        "the best of my knowledge, its data are accurate and complete."
    ),
}
#: Why a signature no longer holds, by the kind of change.
CHANGE_WORDS = {
    ChangeKind.FORM_SAVED: "Data changed after signing: {where}, by {by} on {at}.",
    ChangeKind.ROW_REMOVED: "A row was removed after signing: {where}, by {by} on {at}.",
    ChangeKind.VISIT_DATE: "A visit date changed after signing: {where}, by {by} on {at}.",
    ChangeKind.STATUS: "The subject's status changed after signing: {where}, by {by} on {at}.",
}
SYSTEM = "an operator at the command line"
ROW_OF = "{label} (row {key})"

NO_SIGNER = "Only an investigator signs, for themselves, while signed in."
NO_VISIT_DATA = "This visit has no data to sign yet."
NO_DECISION = "The inclusion decision has not been made yet: there is nothing to sign."
NO_DATA = "This casebook has no data to sign yet."
INCOMPLETE = "Complete these forms before signing: {forms}."
ALREADY_SIGNED = "This is signed already, and the signature still holds."
CONFIRM_QUERIES = (
    "{count} queries on these data are not closed: confirm that you sign over them, or "
    "wait until they are closed."
)
CONFIRM_QUERY = (
    "1 query on these data is not closed: confirm that you sign over it, or wait until it "
    "is closed."
)
NO_PASSWORD = "Enter your password."
NO_USERNAME = "Enter your username."


@dataclass(frozen=True)
class Change:
    """A write that may change signed content: its kind and where, as the trail names it."""

    kind: ChangeKind
    where: str


@dataclass(frozen=True)
class Signing:
    """The outcome of :func:`sign`: the signature, or why the signer's identity was not
    confirmed (``field``: "username" or "password"; None when the account is blocked)."""

    signature: Signature | None
    refusal: str | None = None
    field: str | None = None


def visit_label(study: LoadedStudy, visit_oid: str, repeat: int) -> str:
    visit = study.visits.get(visit_oid)
    name = visit.name if visit else visit_oid
    return name if repeat == 1 else f"{name} #{repeat}"


def meaning(study: LoadedStudy, subject: Subject, key: ScopeKey, content: SubjectContent) -> str:
    """The statement a signature of ``key`` means, as the signer reads it."""
    words = {"subject": subject.identifier}
    if key.scope is Scope.VISIT:
        words["visit"] = visit_label(study, key.visit_oid, key.visit_repeat)
    if key.scope is Scope.INCLUSION:
        decision = content.decision()
        words["decision"] = decision.status.label.lower() if decision else "none"
    return MEANINGS[key.scope].format(**words)


def check_signable(study: LoadedStudy, content: SubjectContent, key: ScopeKey) -> None:
    """Refuse a scope with nothing to sign, or with forms not complete (R6).

    :raises NotFound: a visit the study does not have.
    :raises RuleViolation: no data (or no decision) yet, or forms still in progress.
    """
    if key.scope is Scope.VISIT:
        if key.visit_oid not in study.visits or not key.visit_repeat:
            raise NotFound("No such visit.")
        if not content.visits.get((key.visit_oid, key.visit_repeat), {}).get("forms"):
            raise RuleViolation(NO_VISIT_DATA)
    elif key.scope is Scope.INCLUSION:
        if content.decision() is None:
            raise RuleViolation(NO_DECISION)
    elif not content.entry_ids:
        raise RuleViolation(NO_DATA)
    draft = [
        f"{study.forms[f].name if f in study.forms else f} ({visit_label(study, v, r)})"
        for v, r, f in content.forms_of(study, key)
        if content.visits[(v, r)]["forms"][f]["status"] is not EntryStatus.COMPLETE
    ]
    if draft:
        raise RuleViolation(INCOMPLETE.format(forms=", ".join(draft)))


def open_queries(study: LoadedStudy, content: SubjectContent, key: ScopeKey) -> int:
    """Queries not closed on the content of ``key``."""
    query = sa.select(sa.func.count()).where(
        Query.subject_id == content.subject.id, Query.state != QueryState.CLOSED
    )
    if key.scope is not Scope.CASEBOOK:
        visits = [content.visit_ids[v] for v in content.visits_of(study, key)]
        entries = [content.entry_ids[e] for e in content.forms_of(study, key)]
        if key.scope is Scope.VISIT:
            query = query.where(Query.visit_id.in_(visits))
        else:
            query = query.where(
                sa.or_(
                    Query.entry_id.in_(entries),
                    sa.and_(Query.entry_id.is_(None), Query.visit_id.in_(visits)),
                )
            )
    return db.session.scalar(query)


def current(subject: Subject, key: ScopeKey) -> Signature | None:
    """The latest signature of ``key`` for ``subject``, valid or not."""
    return db.session.scalar(
        sa.select(Signature)
        .where(
            Signature.subject_id == subject.id,
            Signature.scope == key.scope,
            Signature.visit_oid.is_(None)
            if key.visit_oid is None
            else Signature.visit_oid == key.visit_oid,
            Signature.visit_repeat.is_(None)
            if key.visit_repeat is None
            else Signature.visit_repeat == key.visit_repeat,
        )
        .order_by(Signature.id.desc())
        .limit(1)
    )


def _lock(subject: Subject) -> None:
    """Hold the subject's row lock (as the write path does): a save and a signing of the
    same subject queue, so no save slips between the hash and the signature."""
    db.session.execute(
        sa.update(Subject)
        .where(Subject.id == subject.id)
        .values(number=Subject.number)
        .execution_options(synchronize_session=False)
    )


def sign(
    study: LoadedStudy,
    subject: Subject,
    key: ScopeKey,
    *,
    actor: User | None,
    password: str,
    username: str | None = None,
    username_required: bool = True,
    confirm_open_queries: bool = False,
    source: str = accounts.LOCAL_SOURCE,
) -> Signing:
    """Sign ``key`` of ``subject`` as ``actor``, who proves it is them.

    :param username_required: the first signing of a session: the username must be given
        and be the actor's (both components, 11.200(a)(1)(i)); later ones need the password.
    :param confirm_open_queries: the signer confirmed signing over queries not closed.
    :param source: the client's address, for the failure counters.
    :returns: the signature; or, when the username or password is wrong (or the account
        blocked), no signature and the refusal: the failure is counted like a failed
        sign-in and audited, nothing else written; the caller commits it all the same.
    :raises PermissionDenied: nobody signed in, or not an investigator at the site.
    :raises NotFound: no such visit.
    :raises RuleViolation: nothing to sign, forms in progress, already validly signed,
        queries not closed and not confirmed (at ``confirm_open_queries``), a component
        missing (at ``username`` or ``password``).
    """
    if actor is None:
        raise PermissionDenied(NO_SIGNER)
    require_permission(actor, Perm.SIGN, subject.site_id)
    _lock(subject)
    db.session.refresh(subject, ["status", "status_reason"])  # as the lock holder sees it
    content = SubjectContent.load(subject)
    check_signable(study, content, key)
    previous = current(subject, key)
    if previous is not None and previous.valid:
        raise RuleViolation(ALREADY_SIGNED)
    count = open_queries(study, content, key)
    if count and not confirm_open_queries:
        message = CONFIRM_QUERY if count == 1 else CONFIRM_QUERIES.format(count=count)
        raise RuleViolation(message, field="confirm_open_queries")
    if username_required and not (username or "").strip():
        raise RuleViolation(NO_USERNAME, field="username")
    if not password:
        raise RuleViolation(NO_PASSWORD, field="password")
    path = key.path(subject)
    confirmation = accounts.confirm_identity(
        actor,
        password,
        source,
        username=username if username_required else None,
        purpose=f"signature {path}",
    )
    if not confirmation.confirmed:
        return Signing(None, confirmation.refusal, confirmation.field)
    statement = meaning(study, subject, key, content)
    signature = Signature(
        subject_id=subject.id,
        scope=key.scope,
        visit_oid=key.visit_oid,
        visit_repeat=key.visit_repeat,
        signer_id=actor.id,
        printed_name=actor.full_name,
        role=Role.INVESTIGATOR.value,
        meaning=statement,
        signed_at=utcnow(),
        content_hash=content.hash(study, key),
        open_queries=count,
    )
    db.session.add(signature)
    db.session.flush()
    record_event(
        "signature_signed",
        "signature",
        signature.id,
        actor=actor,
        site_id=subject.site_id,
        field=path,
        new=signature.content_hash,
        reason=statement,
        definition_version=study.version,
    )
    if count:
        record_event(
            "signature_over_open_queries",
            "signature",
            signature.id,
            actor=actor,
            site_id=subject.site_id,
            field=path,
            new=str(count),
        )
    return Signing(signature)


def why_invalid(study: LoadedStudy, signature: Signature) -> str | None:
    """What invalidated ``signature``, in words; None while it holds."""
    if signature.valid or signature.change_kind is None:
        return None
    by = signature.invalidated_by
    return CHANGE_WORDS[signature.change_kind].format(
        where=where_words(study, signature.change_where or ""),
        by=f"{by.full_name} ({by.username})" if by else SYSTEM,
        at=signature.invalidated_at.strftime("%Y-%m-%d %H:%M UTC"),
    )


_WHERE = re.compile(r"^(?P<visit>\w+)\[(?P<repeat>\d+)\](?:/(?P<form>\w+))?(?: (?P<fields>.+))?$")
_FIELD = re.compile(r"^(?P<group>\w+)\[(?P<key>\d+)\](?:\.(?P<item>\w+))?$")


def where_words(study: LoadedStudy, where: str) -> str:
    """A change's place as people read it ("Screening › Coagulation › APTT ratio"), from
    the path the audit trail names it by ("SCR[1]/COAG COAG[1].APTTR"); the path itself
    when it names nothing the definition knows (a status change, an older definition)."""
    found = _WHERE.match(where)
    if found is None or found["visit"] not in study.visits:
        return where
    words = visit_label(study, found["visit"], int(found["repeat"]))
    form = study.forms.get(found["form"]) if found["form"] else None
    if found["form"] and form is None:
        return where
    if form is None:
        return words
    words += f" › {form.name}"
    if not found["fields"]:
        return words
    named = []
    for path in found["fields"].split(", "):
        field = _FIELD.match(path)
        group = study.group(form.oid, field["group"]) if field else None
        if group is None:
            return where
        label = group.label
        if field["item"]:
            if not study.has_item(form.oid, field["item"]):
                return where
            label = study.item(form.oid, field["item"])[1].label
        if group.repeating:
            label = ROW_OF.format(label=label, key=field["key"])
        named.append(label)
    return f"{words} › {', '.join(named)}"


def invalidate_changed(
    study: LoadedStudy, subject: Subject, change: Change, *, actor: User | None
) -> list[Signature]:
    """After a write to ``subject``: invalidate each valid signature whose content's hash
    is no longer the one signed, with ``change`` as the reason (audited).

    One query when the subject has no valid signature; otherwise its content is read once
    and every valid signature checked (a derived value may change another visit).
    """
    # Plain rows (usually none), made ORM objects as loaded.
    found = plain_rows(_valid_signatures(), {"subject_id": subject.id}).all()
    valid = [as_loaded(Signature, row) for row in found]
    if not valid:
        return []
    content = SubjectContent.load(subject)
    now = utcnow()
    invalidated = []
    for signature in valid:
        key = ScopeKey.of(signature)
        now_hash = content.hash(study, key)
        if now_hash == signature.content_hash:
            continue
        signature.state = SignatureState.INVALIDATED
        signature.invalidated_at = now
        signature.invalidated_by_id = actor.id if actor else None
        signature.change_kind = change.kind
        signature.change_where = change.where
        invalidated.append(signature)
        db.session.flush()
        record_event(
            "signature_invalidated",
            "signature",
            signature.id,
            actor=actor,
            site_id=subject.site_id,
            field=key.path(subject),
            old=signature.content_hash,
            new=now_hash,
            reason=f"{change.kind.value}: {change.where}",
        )
    return invalidated


@functools.cache
def _valid_signatures() -> sa.Select:
    """``invalidate_changed``'s query, built once (every write asks it)."""
    return (
        sa.select(Signature)
        .where(
            Signature.subject_id == sa.bindparam("subject_id"),
            Signature.state == SignatureState.VALID,
        )
        .order_by(Signature.id)
    )


# --- the hooks of the write paths: one call each -----------------------------------------


def after_form_saved(
    study: LoadedStudy,
    subject: Subject,
    visit_oid: str,
    visit_repeat: int,
    form_oid: str,
    fields: list[str],
    *,
    actor: User | None,
) -> list[Signature]:
    """A form was saved: ``fields`` (GROUP[n].ITEM) are the values the user changed."""
    where = f"{visit_oid}[{visit_repeat}]/{form_oid}"
    if fields:
        where += " " + ", ".join(fields)
    return invalidate_changed(study, subject, Change(ChangeKind.FORM_SAVED, where), actor=actor)


def after_row_removed(
    study: LoadedStudy,
    subject: Subject,
    visit_oid: str,
    visit_repeat: int,
    form_oid: str,
    row: str,
    *,
    actor: User | None,
) -> list[Signature]:
    where = f"{visit_oid}[{visit_repeat}]/{form_oid} {row}"
    return invalidate_changed(study, subject, Change(ChangeKind.ROW_REMOVED, where), actor=actor)


def after_visit_dated(
    study: LoadedStudy, subject: Subject, visit_oid: str, visit_repeat: int, *, actor: User | None
) -> list[Signature]:
    where = f"{visit_oid}[{visit_repeat}]"
    return invalidate_changed(study, subject, Change(ChangeKind.VISIT_DATE, where), actor=actor)


def after_status_changed(
    study: LoadedStudy, subject: Subject, *, actor: User | None
) -> list[Signature]:
    change = Change(ChangeKind.STATUS, f"{subject.identifier} → {subject.status.label}")
    return invalidate_changed(study, subject, change, actor=actor)
