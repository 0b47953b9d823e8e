"""Audit pages: the review of changes to critical items (with its "reviewed" mark) and the
study-wide audit trail."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import HiddenField

from ecrf import transaction
from ecrf.auth.permissions import require
from ecrf.auth.roles import Perm
from ecrf.converters import bounded_int
from ecrf.errors import PermissionDenied
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Site
from ecrf.review import services, trail
from ecrf.review.paging import paginate
from ecrf.review.scope import review_sites, trail_sites
from ecrf.web_forms import BaseForm

bp = Blueprint("review", __name__)

TEXT = {
    "marked": "{count} change(s) marked reviewed.",
    "no_review": "You review no site's audit trail.",
    "no_trail": "The study-wide audit trail is for data managers.",
}


class MarkForm(BaseForm):
    """ "Mark reviewed": the newest change the page showed, and its filters."""

    up_to = HiddenField()
    site = HiddenField()
    user = HiddenField()
    form = HiddenField()
    item = HiddenField()


def _page_number() -> int:
    number = bounded_int(request.args.get("page") or "1")
    if not number:
        abort(404)
    return number


def _sites(sites: set[int] | None) -> list[Site]:
    query = sa.select(Site).order_by(Site.code)
    if sites is not None:
        query = query.where(Site.id.in_(sorted(sites)))
    return list(db.session.scalars(query))


def _review_page(parsed: services.Parsed, mark_form: MarkForm | None = None):
    study = current_study()
    filters = parsed.filters
    sites = review_sites(current_user)
    if sites is not None and not sites:
        raise PermissionDenied(TEXT["no_review"])
    if parsed.errors:  # a refused filter shows its message and no list under a wrong scope
        page = None
        counts = None
        new, newest = 0, None
    else:
        page = paginate(
            services.changes(study, current_user, filters),
            _page_number(),
            current_app.config["PAGE_SIZE"],
        )
        counts = services.counts(study, current_user, filters)
        new, newest = services.pending(study, current_user, filters)
    form = mark_form or MarkForm(
        formdata=None,
        up_to=newest,
        site=filters.site or "",
        user=filters.changed_by or "",
        form=filters.form or "",
        item=filters.item or "",
    )
    status = 422 if parsed.errors or mark_form is not None else 200
    return render_template(
        "review/review.html",
        study=study,
        page=page,
        counts=counts,
        filters=filters,
        errors=parsed.errors,
        raw=request.args,
        sites=_sites(sites),
        forms=[study.forms[oid] for oid in services.critical_forms(study)],
        items=services.critical_items(study, filters.form),
        shows=services.SHOWS,
        describe=lambda form_oid, path: services.describe_field(study, form_oid, path),
        value=lambda form_oid, path, text: services.describe_value(study, form_oid, path, text),
        mark_form=form,
        new=new,
    ), status


@bp.route("/audit/review")
@require(Perm.VIEW_AUDIT)
def review_changes():
    """Changes to critical items since the user's last review, with counts per site and per
    user; filters by site, user, form and item."""
    parsed = services.parse_filters(current_study(), current_user, request.args)
    return _review_page(parsed)


@bp.post("/audit/review/mark")
@require(Perm.VIEW_AUDIT)
def mark_reviewed():
    """Mark the changes the page showed (through its filters) reviewed, up to the newest."""
    study = current_study()
    form = MarkForm()
    parsed = services.parse_filters(
        study,
        current_user,
        {
            "site": form.site.data or "",
            "user": form.user.data or "",
            "form": form.form.data or "",
            "item": form.item.data or "",
        },
    )
    if parsed.errors:
        sites = review_sites(current_user)
        if sites is not None and not sites:
            raise PermissionDenied(TEXT["no_review"])
        return _review_page(parsed)
    covered: list[int] = []

    def mark() -> None:
        up_to = bounded_int(form.up_to.data)
        covered.append(services.mark_reviewed(study, parsed.filters, up_to, actor=current_user))

    if transaction.submit(form, mark):
        flash(TEXT["marked"].format(count=covered[0]), "success")
        return redirect(url_for("review.review_changes", **parsed.filters.args()))
    return _review_page(parsed, form)


@bp.route("/audit")
@require(Perm.VIEW_AUDIT)
def audit_trail():
    """Every audit event of the user's sites, newest first, filtered by subject, user,
    dates and form, a page at a time."""
    sites = trail_sites(current_user)
    if sites is not None and not sites:
        raise PermissionDenied(TEXT["no_trail"])
    study = current_study()
    parsed = trail.parse_filters(study, current_user, request.args)
    page, rows = None, []
    if not parsed.errors:
        page = paginate(
            trail.events(current_user, parsed.filters),
            _page_number(),
            current_app.config["PAGE_SIZE"],
        )
        rows = trail.with_context([row[0] for row in page.items])
    return render_template(
        "review/trail.html",
        study=study,
        page=page,
        rows=rows,
        filters=parsed.filters,
        errors=parsed.errors,
        raw=request.args,
        forms=sorted(study.forms.values(), key=lambda f: f.name),
        describe=lambda form_oid, path: services.describe_field(study, form_oid, path),
        value=lambda form_oid, path, text: services.describe_value(study, form_oid, path, text),
    ), (422 if parsed.errors else 200)
