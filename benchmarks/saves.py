"""Form saves through HTTP, as the site's staff makes them, beside the floor: a signed-in
POST that inserts one row and commits.

Each save posts the whole form as the page gave it (every field, the version, a reason
for change, "complete"), with one number changed back and forth by its last digit: the
write path validates, derives, checks, audits and commits it as any correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from benchmarks.web import Counter, Timings, entry_form, repeat, signed_in
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import FormEntry, Site, Subject, SubjectVisit
from forms.language import DataType

#: The forms saved: a form of about twenty fields, the trial's lab form and PET form.
FORMS = (("LBHEM", "haematology, 18 fields"), ("LBCHEM", "biochemistry lab, 28 fields"))
FORMS += (("PETIV", "PET, 41 fields"),)
FLOOR_URL = "/_bench/floor-save"
_FLOOR = sa.Table(
    "bench_floor",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer),
)


def register_floor(app: Flask) -> None:
    """The floor's view, on the benchmark's app only: signed in, insert one row, commit."""

    @login_required
    def floor_save():
        db.session.execute(sa.insert(_FLOOR).values(n=1))
        db.session.commit()
        return "", 204

    app.add_url_rule(FLOOR_URL, "bench_floor_save", floor_save, methods=["POST"])
    with app.app_context():
        _FLOOR.create(db.engine, checkfirst=True)


@dataclass(frozen=True)
class Saved:
    form: str
    label: str
    place: str
    timings: Timings


def _place(form_oid: str) -> tuple[str, str, int]:
    """A documented subject's latest entry of ``form_oid`` at BDX (whose staff saves it):
    (identifier, visit, repeat) of the subject with the most form entries."""
    forms = sa.func.count(FormEntry.id)
    richest = db.session.scalar(
        sa.select(Subject.id)
        .join(Site, Site.id == Subject.site_id)
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .where(Site.code == "BDX")
        .group_by(Subject.id)
        .having(sa.func.sum(sa.case((FormEntry.form_oid == form_oid, 1), else_=0)) > 0)
        .order_by(forms.desc(), Subject.id)
        .limit(1)
    )
    row = db.session.execute(
        sa.select(Subject.identifier, SubjectVisit.visit_oid, SubjectVisit.repeat_key)
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .where(Subject.id == richest, FormEntry.form_oid == form_oid)
        .order_by(SubjectVisit.visit_date.desc(), SubjectVisit.id.desc())
        .limit(1)
    ).one()
    return row.identifier, row.visit_oid, row.repeat_key


def _changeable(form_oid: str, fields: list[tuple[str, str]]) -> tuple[int, Decimal, Decimal]:
    """The index of an entered number on the page, its value and one step of its last digit."""
    form = current_study().forms[form_oid]
    numbers = {
        item.oid
        for _, item in form.items()
        if item.type in (DataType.DECIMAL, DataType.INTEGER) and not item.derived
    }
    for index, (name, value) in enumerate(fields):
        if name.rsplit("-", 1)[-1] in numbers and value.strip():
            number = Decimal(value)
            return index, number, Decimal(1).scaleb(number.as_tuple().exponent)
    raise ValueError(f"no entered number on {form_oid}")


def measure_saves(app: Flask, counter: Counter, runs: int) -> tuple[list[Saved], Timings]:
    """Each form of ``FORMS`` saved ``runs`` times; then the floor, as often."""
    client = signed_in(app, "staff.bdx")
    saved = []
    for form_oid, label in FORMS:
        with app.app_context():
            identifier, visit, key = _place(form_oid)
        url = f"/subjects/{identifier}/visits/{visit}/{key}/forms/{form_oid}"
        page = client.get(url)
        fields = entry_form(page.get_data(as_text=True))
        with app.app_context():
            index, number, step = _changeable(form_oid, fields)
        version = int(dict(fields)["version"])
        data = [(n, v) for n, v in fields if n not in ("reason", "action")]
        data += [("reason", "benchmark: corrected from the source"), ("action", "complete")]

        def save(n: int, data=data, url=url, index=index, number=number, step=step) -> int:
            nonlocal version
            posted = list(data)
            posted[index] = (posted[index][0], str(number + step * (n % 2 == 0)))
            posted = [(k, str(version) if k == "version" else v) for k, v in posted]
            response = client.post(url, data=MultiDict(posted))
            version += 1
            if response.status_code != 302:
                raise RuntimeError(f"{url}: {response.status_code}")
            return 200

        saved.append(Saved(form_oid, label, f"{identifier} {visit}", repeat(counter, runs, save)))
    floor = repeat(counter, runs, lambda n: client.post(FLOOR_URL).status_code)
    return saved, floor
