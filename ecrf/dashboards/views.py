"""Dashboard pages: the study's (every site the user sees, with a site table and a site
filter), one site's, and the monitor's visit preparation with its "record a visit" form."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField

from ecrf import transaction
from ecrf.auth.permissions import can, require
from ecrf.auth.roles import Perm
from ecrf.dashboards import board, prep, services
from ecrf.dashboards.scope import scope_for, visible_sites
from ecrf.queries.listing import QUERY_PERMS, target_words
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.web_forms import BaseForm

bp = Blueprint("dashboards", __name__)

RECORDED = "Monitoring visit of {date} recorded."


class VisitForm(BaseForm):
    visit_date = StringField(
        "Date of the visit",
        render_kw={"placeholder": "YYYY-MM-DD", "inputmode": "numeric"},
        description="The day you were at the site (UTC); changes from that day on will show "
        "at the next preparation.",
    )


def _visible_site_or_404(code: str):
    site = get_site(code) if code else None
    # Another site answers like a missing one: nobody learns what exists elsewhere.
    if site is None or not can(current_user, Perm.VIEW_SUBJECTS, site.id):
        abort(404)
    return site


@bp.route("/dashboard")
@require(Perm.VIEW_SUBJECTS)
def study_dashboard():
    """Every site the user sees: a table of sites, then each section over all of them."""
    code = request.args.get("site") or None
    if code is not None:
        site = _visible_site_or_404(code)
        return redirect(url_for("dashboards.site_dashboard", code=site.code))
    sites = visible_sites(current_user)
    if len(sites) == 1:
        return redirect(url_for("dashboards.site_dashboard", code=sites[0].code))
    scope = scope_for(current_user, sites)
    return render_template(
        "dashboards/dashboard.html",
        site=None,
        sites=sites,
        scope=scope,
        sections=board.compute(current_study(), scope),
        may_query=any(can(current_user, p) for p in QUERY_PERMS),
    )


@bp.route("/sites/<code>/dashboard")
@require(Perm.VIEW_SUBJECTS)
def site_dashboard(code: str):
    """One site's dashboard."""
    site = _visible_site_or_404(code)
    scope = scope_for(current_user, [site])
    return render_template(
        "dashboards/dashboard.html",
        site=site,
        sites=visible_sites(current_user),
        scope=scope,
        sections=board.compute(current_study(), scope),
        may_query=any(can(current_user, p, site.id) for p in QUERY_PERMS),
        may_prepare=can(current_user, services.MONITOR_PERM, site.id),
    )


def _monitor_site_or_404(code: str):
    site = _visible_site_or_404(code)
    if not can(current_user, services.MONITOR_PERM, site.id):
        abort(404)
    return site


def _prep_page(site, form: VisitForm, status: int = 200):
    study = current_study()
    preparation = prep.prepare(study, site)
    return render_template(
        "dashboards/prep.html",
        site=site,
        prep=preparation,
        queries=[(q, target_words(study, q)) for q in preparation.queries],
        visits=services.visits_of(site),
        form=form,
    ), status


@bp.route("/sites/<code>/visit-prep")
@require(services.MONITOR_PERM)
def visit_prep(code: str):
    """The monitor's preparation of the next visit at the site."""
    return _prep_page(_monitor_site_or_404(code), VisitForm())


@bp.post("/sites/<code>/monitoring-visits")
@require(services.MONITOR_PERM)
def record_visit(code: str):
    """Record a monitoring visit at the site (its date; the monitor is the user)."""
    site = _monitor_site_or_404(code)
    form = VisitForm()
    if transaction.submit(
        form, lambda: services.record_visit(site, form.visit_date.data, actor=current_user)
    ):
        flash(RECORDED.format(date=form.visit_date.data.strip()), "success")
        return redirect(url_for("dashboards.visit_prep", code=site.code))
    return _prep_page(site, form, 422)
