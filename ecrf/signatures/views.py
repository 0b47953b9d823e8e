"""The signing page of a visit, the inclusion decision or a casebook: what is signed, the
meaning, the queries not closed, and the signer's username (at the first signing of the
session) and password."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import Length

from ecrf import transaction
from ecrf.auth.permissions import can, require
from ecrf.auth.roles import Perm
from ecrf.errors import DomainError, NotFound, PermissionDenied
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Subject
from ecrf.signatures import pages, services
from ecrf.signatures.content import ScopeKey, SubjectContent
from ecrf.signatures.models import Scope
from ecrf.web_forms import BaseForm

bp = Blueprint("signatures", __name__)

#: Set in the session at its first signing: later signings ask for the password only.
SIGNED_KEY = "signed_in_session"
SIGNED = "Signed: {what}."
TITLES = {
    Scope.VISIT: "Sign the visit {label}",
    Scope.INCLUSION: "Sign the inclusion decision",
    Scope.CASEBOOK: "Sign the whole casebook",
}


class SignForm(BaseForm):
    username = StringField(
        "Username",
        validators=[Length(max=80)],
        description="Your own username: the first signing of a session asks for both parts "
        "of your signature.",
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    confirm_open_queries = BooleanField("I sign over the queries not closed on these data.")


def _subject_or_404(identifier: str) -> Subject:
    subject = db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier.upper()))
    if subject is None or not can(current_user, Perm.VIEW_SUBJECTS, subject.site_id):
        abort(404)
    return subject


def _signing(identifier: str, key: ScopeKey):
    subject = _subject_or_404(identifier)
    study = current_study()
    if key.scope is Scope.VISIT and key.visit_oid not in study.visits:
        abort(404)
    content = SubjectContent.load(subject)
    if key.scope is Scope.VISIT and (key.visit_oid, key.visit_repeat) not in content.visits:
        abort(404)
    first = not session.get(SIGNED_KEY)
    form = SignForm()
    if not first:
        del form.username
    problem = None
    try:
        services.check_signable(study, content, key)
    except NotFound:
        abort(404)
    except DomainError as exc:
        problem = exc.message
    count = services.open_queries(study, content, key) if problem is None else 0
    if not count:
        del form.confirm_open_queries
    previous = services.current(subject, key)
    if problem is None and form.validate_on_submit():
        actor = current_user._get_current_object()
        try:
            result = transaction.perform(
                lambda: services.sign(
                    study,
                    subject,
                    key,
                    actor=actor,
                    password=form.password.data or "",
                    username=form.username.data if first else None,
                    username_required=first,
                    confirm_open_queries=bool(form.confirm_open_queries.data if count else False),
                    source=request.remote_addr or "unknown",
                )
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:
            form.attach_error(exc.field if exc.field in form else None, exc.message)
        else:
            if result.signature is not None:
                session[SIGNED_KEY] = True
                label = _label(study, key)
                flash(SIGNED.format(what=label), "success")
                return redirect(
                    url_for("study.show_subject", identifier=subject.identifier) + "#signatures"
                )
            form.attach_error(result.field if result.field in form else None, result.refusal)
    page = render_template(
        "signatures/sign.html",
        subject=subject,
        key=key,
        title=TITLES[key.scope].format(label=_label(study, key)),
        meaning=services.meaning(study, subject, key, content),
        lines=pages.signed_lines(study, content, key),
        decision=content.decision() if key.scope is Scope.INCLUSION else None,
        open_queries=count,
        previous=previous,
        why_invalid=services.why_invalid(study, previous) if previous else None,
        problem=problem,
        form=form,
        first=first,
        action=pages.sign_url(subject, key),
    )
    return page, (422 if form.errors or form.form_errors else 200)


def _label(study, key: ScopeKey) -> str:
    if key.scope is Scope.VISIT:
        return services.visit_label(study, key.visit_oid, key.visit_repeat)
    return pages.INCLUSION_LABEL if key.scope is Scope.INCLUSION else pages.CASEBOOK_LABEL


@bp.route(
    "/subjects/<identifier>/sign/visit/<visit_oid>/<int(min=1):repeat>", methods=["GET", "POST"]
)
@require(Perm.SIGN)
def sign_visit(identifier: str, visit_oid: str, repeat: int):
    """Sign one visit of the subject."""
    return _signing(identifier, ScopeKey(Scope.VISIT, visit_oid, repeat))


@bp.route("/subjects/<identifier>/sign/inclusion", methods=["GET", "POST"])
@require(Perm.SIGN)
def sign_inclusion(identifier: str):
    """Sign the subject's inclusion decision."""
    return _signing(identifier, ScopeKey(Scope.INCLUSION))


@bp.route("/subjects/<identifier>/sign/casebook", methods=["GET", "POST"])
@require(Perm.SIGN)
def sign_casebook(identifier: str):
    """Sign the subject's whole casebook."""
    return _signing(identifier, ScopeKey(Scope.CASEBOOK))
