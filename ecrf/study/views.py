"""Site pages: the sites a user works at, and their administration."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ecrf.auth.permissions import check, require
from ecrf.auth.roles import Perm
from ecrf.errors import DomainError
from ecrf.extensions import db
from ecrf.forms_base import BaseForm
from ecrf.study import services

bp = Blueprint("study", __name__)


class SiteForm(BaseForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Give the site's code."), Length(max=8)],
        description="2 to 8 capital letters or digits; it prefixes subject numbers.",
    )
    name = StringField("Name", validators=[DataRequired("Give the site's name."), Length(max=200)])


@bp.route("/sites/")
@require(Perm.VIEW_SUBJECTS)
def list_sites():
    """The sites whose subjects you may see."""
    sites = services.sites_visible_to(current_user)
    return render_template("study/sites.html", sites=sites)


@bp.route("/sites/<code>")
@require(Perm.VIEW_SUBJECTS)
def show_site(code: str):
    """One site's page: its team and (with the capture engine) its subjects."""
    site = services.get_site(code)
    if site is None:
        abort(404)
    check(current_user, Perm.VIEW_SUBJECTS, site.id)
    team = services.site_team(site)
    return render_template("study/site.html", site=site, team=team)


@bp.route("/admin/sites", methods=["GET", "POST"])
@require(Perm.MANAGE_SITES)
def manage_sites():
    """List the sites and add one."""
    form = SiteForm()
    if form.validate_on_submit():
        try:
            site = services.add_site(form.code.data, form.name.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.attach_error(exc.field, exc.message)
        else:
            db.session.commit()
            flash(f"Site {site.code} added.", "success")
            return redirect(url_for("study.manage_sites"))
    sites = services.all_sites()
    return render_template("study/admin_sites.html", sites=sites, form=form), (
        422 if form.errors else 200
    )
