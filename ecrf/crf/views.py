"""Form pages: enter, correct and complete one form of one visit; item history; visit
dates (recorded from the subject's page)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ecrf import transaction
from ecrf.auth.permissions import can, require, require_permission
from ecrf.auth.roles import Perm
from ecrf.converters import bounded_int
from ecrf.crf import services, visits
from ecrf.crf.page import FormPage, history_entry, history_events, merge_stale, posted_entries
from ecrf.errors import DomainError, RuleViolation
from ecrf.locks.services import covering_lock
from ecrf.queries.listing import QUERY_PERMS
from ecrf.records import fields
from ecrf.records.loader import current_study
from ecrf.resume.web import MESSAGES as RESUME_MESSAGES
from ecrf.resume.web import kept_form_waiting, take_posted_form
from ecrf.sdv.display import form_verification
from ecrf.study import subjects
from ecrf.study.views import VisitDateForm, subject_or_404, subject_page
from forms.language import VisitKind

bp = Blueprint("crf", __name__)

FORM_URL = "/subjects/<identifier>/visits/<visit_oid>/<int:repeat>/forms/<form_oid>"


def _load(identifier: str, visit_oid: str, repeat: int, form_oid: str):
    study = current_study()
    subject = subjects.get_subject(identifier)
    visit_def = study.visits.get(visit_oid)
    # Another site's subject answers like a missing one: nobody learns what exists elsewhere.
    if (
        subject is None
        or not can(current_user, Perm.VIEW_SUBJECTS, subject.site_id)
        or visit_def is None
        or form_oid not in visit_def.forms
    ):
        abort(404)
    if visit_def.kind is not VisitKind.UNSCHEDULED and repeat != 1:
        abort(404)  # scheduled visits and logs occur once
    return study, subject, visit_def, study.forms[form_oid]


@bp.route(FORM_URL, methods=["GET", "POST"])
@require(Perm.VIEW_SUBJECTS)
def edit_entry(identifier: str, visit_oid: str, repeat: int, form_oid: str):
    """Show a form; save it as draft or complete; add rows to repeating groups."""
    study, subject, visit_def, form_def = _load(identifier, visit_oid, repeat, form_oid)
    if request.method == "GET":
        page = _page(study, subject, visit_def, repeat, form_def)
        # A form posted while its sender was signed out comes back filled, to check and save.
        if (
            page.can_edit
            and kept_form_waiting()
            and (kept := transaction.perform(take_posted_form)) is not None
        ):
            page.bind(kept)
            flash(RESUME_MESSAGES["restored"], "warning")
        return page.render()
    require_permission(current_user, Perm.ENTER_DATA, subject.site_id)
    action = request.form.get("action", "save")
    if action.startswith("add_row:"):
        page = _page(study, subject, visit_def, repeat, form_def, request.form)
        page.add_blank_row(action.split(":", 1)[1])
        return page.render()
    # The page is built again only to show refusals: a save reads the subject once.
    submitted, version = posted_entries(subject, visit_def, repeat, form_def, request.form)
    try:
        result = transaction.perform(
            lambda: services.save_form(
                study,
                subject,
                visit_def.oid,
                form_def.oid,
                submitted,
                actor=current_user,
                expected_version=version,
                reason=request.form.get("reason"),
                complete=action == "complete",
                visit_repeat=repeat,
            )
        )
    except services.ValidationFailed as exc:
        page = _page(study, subject, visit_def, repeat, form_def, request.form)
        page.show_issues(exc.issues, exc.form_errors)
        return page.render(status=422)
    except services.StaleEntry as exc:
        page = _page(study, subject, visit_def, repeat, form_def, request.form)
        page.reload_after_conflict(exc, merge_stale)
        return page.render(status=409)
    note = (
        f" {len(result.warnings)} value(s) outside the usual range: please check."
        if result.warnings
        else ""
    )
    flash(
        f"{form_def.name} saved ({result.status.label.lower()}).{note}",
        "warning" if note else "success",
    )
    return redirect(request.path)


def _page(study, subject, visit_def, repeat: int, form_def, formdata=None) -> FormPage:
    """The form page as the signed-in user sees it, bound to ``formdata`` when posted."""
    lock = covering_lock(subject, visit_def.oid, repeat, form_def.oid)
    page = FormPage(
        study,
        subject,
        visit_def,
        repeat,
        form_def,
        can_edit=can(current_user, Perm.ENTER_DATA, subject.site_id) and lock is None,
        lock=lock,
        can_raise=can(current_user, Perm.RAISE_QUERY, subject.site_id),
        sees_queries=any(can(current_user, p, subject.site_id) for p in QUERY_PERMS),
    )
    page.sdv = form_verification(study, subject, page.entry, form_def.oid, current_user)
    if formdata is not None:
        page.bind(formdata)
    return page


@bp.post(FORM_URL + "/rows/<group_oid>/<int:key>/remove")
@require(Perm.ENTER_DATA)
def remove_row(
    identifier: str, visit_oid: str, repeat: int, form_oid: str, group_oid: str, key: int
):
    """Remove a row of a repeating group, with a reason (it stays in the trail)."""
    study, subject, _, _ = _load(identifier, visit_oid, repeat, form_oid)
    version = bounded_int(request.form.get("version"))
    if version is None:
        version = -1  # a page without a valid version is treated as out of date
    try:
        transaction.perform(
            lambda: services.remove_row(
                study,
                subject,
                visit_oid,
                form_oid,
                group_oid,
                key,
                actor=current_user,
                reason=request.form.get("reason", ""),
                expected_version=version,
                visit_repeat=repeat,
            )
        )
    except DomainError as exc:
        if exc.status == 403:
            raise
        flash(f"Row not removed: {exc.message}", "error")
        return redirect(
            url_for(
                "crf.edit_entry",
                identifier=identifier,
                visit_oid=visit_oid,
                repeat=repeat,
                form_oid=form_oid,
            )
        )
    flash("Row removed.", "success")
    return redirect(
        url_for(
            "crf.edit_entry",
            identifier=identifier,
            visit_oid=visit_oid,
            repeat=repeat,
            form_oid=form_oid,
        )
    )


@bp.route(FORM_URL + "/history")
@require(Perm.VIEW_SUBJECTS)
def item_history(identifier: str, visit_oid: str, repeat: int, form_oid: str):
    """Every recorded change of one item (or of a whole form when no item is named)."""
    _, subject, visit_def, form_def = _load(identifier, visit_oid, repeat, form_oid)
    entry = history_entry(subject, visit_oid, repeat, form_oid)
    if entry is None:
        abort(404)
    field = request.args.get("field") or None
    return render_template(
        "crf/history.html",
        subject=subject,
        visit_def=visit_def,
        repeat=repeat,
        form_def=form_def,
        field=field,
        events=history_events(entry, field),
    )


@bp.post("/subjects/<identifier>/visits/<visit_oid>/<int:repeat_key>/date")
@require(Perm.ENTER_DATA)
def set_visit_date(identifier: str, visit_oid: str, repeat_key: int):
    """Record the day a visit took place (a deviation reason when outside its window)."""
    subject = subject_or_404(identifier)
    study = current_study()
    form = VisitDateForm(prefix=f"date-{visit_oid}-{repeat_key}")

    def record() -> None:
        visits.set_visit_date(
            study,
            subject,
            visit_oid,
            _parse_day(form.visit_date.data),
            actor=current_user,
            repeat_key=repeat_key,
            deviation_reason=form.deviation_reason.data,
            reason=form.reason.data,
        )

    if transaction.submit(form, record):
        flash("Visit date recorded.", "success")
        return redirect(url_for("study.show_subject", identifier=subject.identifier))
    return subject_page(study, subject, date_forms={(visit_oid, repeat_key): form}, status=422)


@bp.post("/subjects/<identifier>/visits/<visit_oid>/new")
@require(Perm.ENTER_DATA)
def add_unscheduled_visit(identifier: str, visit_oid: str):
    """Open a new unscheduled visit on the given date."""
    subject = subject_or_404(identifier)
    study = current_study()
    form = VisitDateForm(prefix=f"date-{visit_oid}-new")

    def add() -> None:
        day = _parse_day(form.visit_date.data)
        if day is None:
            raise RuleViolation("Give the date of the visit.", field="visit_date")
        visits.add_unscheduled_visit(study, subject, visit_oid, day, actor=current_user)

    if transaction.submit(form, add):
        flash("Unscheduled visit added.", "success")
        return redirect(url_for("study.show_subject", identifier=subject.identifier))
    return subject_page(study, subject, date_forms={(visit_oid, "new"): form}, status=422)


def _parse_day(text: str | None):
    if not text:
        return None
    try:
        return fields.parse_day(text)
    except fields.FieldError as exc:
        raise RuleViolation(str(exc), field="visit_date") from None
