"""Laboratory registry pages: list a site's laboratories, add one, its normal ranges."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ecrf import transaction
from ecrf.auth.permissions import ALL_SITES, require, sites_with
from ecrf.auth.roles import Perm
from ecrf.extensions import db
from ecrf.laboratories import services
from ecrf.laboratories.analytes import analytes
from ecrf.laboratories.models import Laboratory, ReferenceRange
from ecrf.records.loader import current_study
from ecrf.records.models import Site
from ecrf.records.sites import all_sites
from ecrf.web_forms import BaseForm

bp = Blueprint("laboratories", __name__)


class LaboratoryForm(BaseForm):
    site = SelectField("Site", choices=[], validate_choice=True)
    name = StringField(
        "Name",
        validators=[DataRequired("Give the laboratory's name."), Length(max=120)],
        description="As the laboratory report names it, e.g. “CHU Bordeaux – Biochimie”.",
    )


class RenameForm(BaseForm):
    name = StringField(
        "Name", validators=[DataRequired("Give the laboratory's name."), Length(max=120)]
    )


class RangeForm(BaseForm):
    # The service checks the choices, with a message at the field (not "Not a valid choice").
    testcd = SelectField("Analyte", choices=[], validate_choice=False)
    unit = SelectField(
        "Unit",
        choices=[],
        validate_choice=False,
        description="The unit the laboratory reports the analyte in.",
    )
    sex = SelectField(
        "Sex", choices=[("", "Both"), ("M", "Men"), ("F", "Women")], validate_choice=False
    )
    age_low = StringField("From age (years)", description="Empty: no lower age.")
    age_high = StringField("Below age (years)", description="Empty: no upper age.")
    low = StringField("Lower limit of normal (LLN)")
    high = StringField("Upper limit of normal (ULN)")
    valid_from = StringField("Valid from", render_kw={"placeholder": "YYYY-MM-DD"})
    valid_to = StringField(
        "Valid to", render_kw={"placeholder": "YYYY-MM-DD"}, description="Empty: still in force."
    )
    reason = TextAreaField("Reason for the change", validators=[Length(max=1000)])

    def typed(self) -> services.RangeInput:
        return services.RangeInput(
            **{name: (getattr(self, name).data or "") for name in _RANGE_FIELDS}
        )


_RANGE_FIELDS = ("testcd", "unit", "sex", "age_low", "age_high", "low", "high")
_RANGE_FIELDS += ("valid_from", "valid_to")


def _range_form(**kwargs) -> RangeForm:
    form = RangeForm(**kwargs)
    known = analytes(current_study())
    form.testcd.choices = [("", "analyte…"), *((a.testcd, a.label) for a in known.values())]
    units: dict[str, str] = {}
    for analyte in known.values():
        for symbol, label in analyte.units:
            units.setdefault(symbol, label)
    form.unit.choices = [("", "unit…"), *sorted(units.items(), key=lambda u: u[1])]
    return form


def _managed_sites() -> list[Site]:
    sites = sites_with(current_user, Perm.MANAGE_LABORATORIES)
    return [s for s in all_sites() if sites is ALL_SITES or s.id in sites]


@bp.route("/admin/laboratories", methods=["GET", "POST"])
@require(Perm.MANAGE_LABORATORIES)
def list_laboratories():
    """The laboratories of the sites you manage, and a new one."""
    form = LaboratoryForm()
    sites = {str(s.id): s for s in _managed_sites()}
    form.site.choices = [(key, f"{s.code} – {s.name}") for key, s in sites.items()]

    def add() -> None:
        services.add_laboratory(sites[form.site.data], form.name.data, actor=current_user)

    if transaction.submit(form, add):
        flash(f"Laboratory {form.name.data.strip()} added.", "success")
        return redirect(url_for("laboratories.list_laboratories"))
    laboratories = services.laboratories_for(current_user)
    page = render_template("laboratories/list.html", laboratories=laboratories, form=form)
    return page, 422 if form.errors else 200


@bp.route("/admin/laboratories/<int:laboratory_id>", methods=["GET", "POST"])
@require(Perm.MANAGE_LABORATORIES)
def show_laboratory(laboratory_id: int):
    """A laboratory: its name and normal ranges, and a new range."""
    laboratory = _laboratory_or_404(laboratory_id)
    form = _range_form()
    del form.reason
    study = current_study()
    if transaction.submit(
        form, lambda: services.add_range(study, laboratory, form.typed(), actor=current_user)
    ):
        flash("Normal range added.", "success")
        return redirect(url_for("laboratories.show_laboratory", laboratory_id=laboratory_id))
    return _laboratory_page(laboratory, form, RenameForm(name=laboratory.name))


@bp.route("/admin/laboratories/<int:laboratory_id>/name", methods=["POST"])
@require(Perm.MANAGE_LABORATORIES)
def rename_laboratory(laboratory_id: int):
    """Rename a laboratory."""
    laboratory = _laboratory_or_404(laboratory_id)
    rename = RenameForm()
    if transaction.submit(
        rename, lambda: services.rename_laboratory(laboratory, rename.name.data, actor=current_user)
    ):
        flash("Laboratory renamed.", "success")
        return redirect(url_for("laboratories.show_laboratory", laboratory_id=laboratory_id))
    form = _range_form(formdata=None)
    del form.reason
    return _laboratory_page(laboratory, form, rename)


@bp.route("/admin/laboratories/<int:laboratory_id>/ranges/<int:range_id>", methods=["GET", "POST"])
@require(Perm.MANAGE_LABORATORIES)
def edit_range(laboratory_id: int, range_id: int):
    """Correct a normal range, with the reason."""
    laboratory = _laboratory_or_404(laboratory_id)
    reference = db.session.get(ReferenceRange, range_id)
    if reference is None or reference.laboratory_id != laboratory.id:
        abort(404)
    form = _range_form(data=_range_data(reference))
    study = current_study()

    def change() -> None:
        typed, reason = form.typed(), form.reason.data or ""
        services.change_range(study, reference, typed, actor=current_user, reason=reason)

    if transaction.submit(form, change):
        flash("Normal range changed.", "success")
        return redirect(url_for("laboratories.show_laboratory", laboratory_id=laboratory_id))
    page = render_template(
        "laboratories/range.html", laboratory=laboratory, reference=reference, form=form
    )
    return page, 422 if form.errors else 200


def _laboratory_or_404(laboratory_id: int) -> Laboratory:
    laboratory = services.get_laboratory(laboratory_id, actor=current_user)
    if laboratory is None:
        abort(404)
    return laboratory


def _laboratory_page(laboratory, form, rename):
    known = analytes(current_study())
    page = render_template(
        "laboratories/laboratory.html",
        laboratory=laboratory,
        analytes=known,
        form=form,
        rename=rename,
    )
    return page, 422 if form.errors or rename.errors else 200


def _range_data(reference: ReferenceRange) -> dict[str, str]:
    def text(value) -> str:
        return "" if value is None else str(value)

    return {
        "testcd": reference.testcd,
        "unit": reference.unit,
        "sex": reference.sex or "",
        "age_low": text(reference.age_low),
        "age_high": text(reference.age_high),
        "low": reference.low_text or "",
        "high": reference.high_text or "",
        "valid_from": reference.valid_from.isoformat(),
        "valid_to": text(reference.valid_to and reference.valid_to.isoformat()),
    }
