"""What the signature pages show: the signed content in words, and each signable scope of
a subject with its latest signature."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for

from ecrf.auth.models import User
from ecrf.auth.permissions import can
from ecrf.auth.roles import Perm
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Subject
from ecrf.signatures.content import ScopeKey, SubjectContent
from ecrf.signatures.models import Scope, Signature
from ecrf.signatures.services import visit_label, why_invalid

INCLUSION_LABEL = "Inclusion decision"
CASEBOOK_LABEL = "Whole casebook"
REMOVED = "removed: {reason}"


@dataclass
class FieldLine:
    label: str
    value: str


@dataclass
class RowLines:
    label: str
    removed: str | None
    fields: list[FieldLine] = field(default_factory=list)


@dataclass
class FormLines:
    name: str
    rows: list[RowLines] = field(default_factory=list)


@dataclass
class VisitLines:
    label: str
    date: str | None
    deviation: str | None
    forms: list[FormLines] = field(default_factory=list)


def _value(study: LoadedStudy, form_oid: str, item_oid: str, stored: list) -> str:
    text, unit, missing = stored
    if missing:
        return missing
    if text is None:
        return "—"
    if not study.has_item(form_oid, item_oid):
        return text
    item = study.item(form_oid, item_oid)[1]
    codelist = study.codelist_for(item)
    if codelist is not None:
        text = ", ".join(codelist.label(code) for code in text.split(","))
    if item.multi_unit:
        chosen = item.unit(unit)
        return f"{text} {chosen.label or chosen.symbol}" if chosen else f"{text} {unit}"
    return f"{text} {item.units}" if item.units else text


def signed_lines(study: LoadedStudy, content: SubjectContent, key: ScopeKey) -> list[VisitLines]:
    """The content of ``key``, visit by visit, form by form, as the signer reads it."""
    visits: dict[tuple[str, int], VisitLines] = {}
    for visit_oid, repeat in content.visits_of(study, key):
        stored = content.visits[(visit_oid, repeat)]
        visits[(visit_oid, repeat)] = VisitLines(
            visit_label(study, visit_oid, repeat),
            stored["date"],
            stored["deviation"] if stored["out_of_window"] else None,
        )
    for visit_oid, repeat, form_oid in content.forms_of(study, key):
        form = study.forms.get(form_oid)
        lines = FormLines(form.name if form else form_oid)
        rows = content.visits[(visit_oid, repeat)]["forms"][form_oid]["rows"]
        for row_key in sorted(rows, key=lambda k: (k.split("[")[0], int(k.split("[")[1][:-1]))):
            row = rows[row_key]
            group_oid = row_key.split("[")[0]
            group = study.group(form_oid, group_oid) if form else None
            label = group.label if group else group_oid
            if group is not None and group.repeating:
                label += f" #{row_key.split('[')[1][:-1]}"
            removed = REMOVED.format(reason=row["reason"]) if row["removed"] else None
            row_lines = RowLines(label, removed)
            order = [i.oid for i in group.items] if group else sorted(row["values"])
            for item_oid in order:
                if item_oid not in row["values"]:
                    continue
                item_label = (
                    study.item(form_oid, item_oid)[1].label
                    if study.has_item(form_oid, item_oid)
                    else item_oid
                )
                shown = _value(study, form_oid, item_oid, row["values"][item_oid])
                row_lines.fields.append(FieldLine(item_label, shown))
            lines.rows.append(row_lines)
        visits[(visit_oid, repeat)].forms.append(lines)
    return list(visits.values())


@dataclass
class ScopeLine:
    """One signable scope of a subject on its page: its latest signature, and whether the
    user may sign it now."""

    label: str
    key: ScopeKey
    signature: Signature | None
    why_invalid: str | None
    sign_url: str | None


def sign_url(subject: Subject, key: ScopeKey) -> str:
    if key.scope is Scope.VISIT:
        return url_for(
            "signatures.sign_visit",
            identifier=subject.identifier,
            visit_oid=key.visit_oid,
            repeat=key.visit_repeat,
        )
    return url_for(f"signatures.sign_{key.scope.value}", identifier=subject.identifier)


def scope_lines(study: LoadedStudy, subject: Subject, user: User) -> list[ScopeLine]:
    """Every scope of ``subject`` that has something to sign, with its latest signature:
    the visits with forms entered (in the schedule's order), the inclusion decision once
    made, the casebook once it holds data."""
    content = SubjectContent.load(subject, values=False)
    latest: dict[ScopeKey, Signature] = {}
    for signature in db.session.scalars(
        sa.select(Signature).where(Signature.subject_id == subject.id).order_by(Signature.id)
    ):
        latest[ScopeKey.of(signature)] = signature
    order = {v.oid: n for n, v in enumerate(study.visits_in_order())}
    keys = [
        (visit_label(study, v, r), ScopeKey(Scope.VISIT, v, r))
        for v, r in sorted(content.visits, key=lambda k: (order.get(k[0], len(order)), k[1]))
        if content.visits[(v, r)]["forms"]
    ]
    if content.decision() is not None:
        keys.append((INCLUSION_LABEL, ScopeKey(Scope.INCLUSION)))
    if content.entry_ids:
        keys.append((CASEBOOK_LABEL, ScopeKey(Scope.CASEBOOK)))
    may_sign = can(user, Perm.SIGN, subject.site_id)
    lines = []
    for label, key in keys:
        signature = latest.get(key)
        signable = may_sign and (signature is None or not signature.valid)
        lines.append(
            ScopeLine(
                label,
                key,
                signature,
                why_invalid(study, signature) if signature is not None else None,
                sign_url(subject, key) if signable else None,
            )
        )
    return lines
