"""Query pages: the list (filtered, with counts), one query's thread with what the user may
do next, and raising a query on a visit, form, row or item of a subject."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import Length

from ecrf import transaction
from ecrf.auth.permissions import can, require
from ecrf.auth.roles import Perm
from ecrf.converters import bounded_int
from ecrf.errors import NotFound
from ecrf.extensions import db
from ecrf.queries import listing, services
from ecrf.queries.models import Query, QueryState
from ecrf.records.loader import current_study
from ecrf.records.models import Site, Subject
from ecrf.web_forms import BaseForm

bp = Blueprint("queries", __name__)

MAX = services.MAX_TEXT
RAISED = "Query raised."
ANSWERED = "Answer sent."
CLOSED = "Query closed."
REOPENED = "Query reopened."


class RaiseForm(BaseForm):
    text = TextAreaField("Question", validators=[Length(max=MAX)])


class AnswerForm(BaseForm):
    text = TextAreaField(
        "Answer",
        validators=[Length(max=MAX)],
        description="To correct the data, open the form and save the correction with its reason.",
    )


class CloseForm(BaseForm):
    text = TextAreaField("Closing note (optional)", validators=[Length(max=MAX)])


class ReopenForm(BaseForm):
    text = TextAreaField("Why reopen", validators=[Length(max=MAX)])


def _filters() -> listing.QueryFilters:
    args = request.args
    state = args.get("state") or None
    if state is not None and state not in {s.value for s in QueryState}:
        abort(404)
    older = args.get("older_than") or None
    if older is not None and (not older.isdigit() or int(older) not in listing.AGES):
        abort(404)
    return listing.QueryFilters(
        site=args.get("site") or None,
        state=QueryState(state) if state else None,
        form=args.get("form") or None,
        subject=args.get("subject") or None,
        older_than=int(older) if older else None,
        mine=args.get("mine") == "1",
    )


@bp.route("/queries")
@require(Perm.RAISE_QUERY, Perm.ANSWER_QUERY)
def list_queries():
    """The queries of the user's sites, filtered by site, state, form, subject and age."""
    study = current_study()
    filters = _filters()
    number = bounded_int(request.args.get("page") or "1")
    if not number:
        abort(404)
    page = db.paginate(
        listing.visible_queries(current_user, filters),
        page=number,
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    sites = listing.query_sites(current_user)
    site_rows = db.session.scalars(
        sa.select(Site).order_by(Site.code)
        if sites is None
        else sa.select(Site).where(Site.id.in_(sites)).order_by(Site.code)
    ).all()
    return render_template(
        "queries/list.html",
        page=page,
        rows=[(q, listing.target_words(study, q)) for q in page.items],
        counts=listing.counts(current_user, filters),
        filters=filters,
        sites=site_rows,
        forms=sorted(study.forms.values(), key=lambda f: f.name),
        states=list(QueryState),
        ages=listing.AGES,
    )


def _query_or_404(query_id: int) -> Query:
    query = db.session.get(Query, query_id)
    # Another site's query answers like a missing one.
    if query is None or not listing.may_see(current_user, query):
        abort(404)
    return query


def _thread(query: Query, **forms):
    site_id = query.subject.site_id
    return render_template(
        "queries/detail.html",
        query=query,
        target=listing.target_words(current_study(), query),
        may_answer=can(current_user, Perm.ANSWER_QUERY, site_id),
        may_close=can(current_user, Perm.RAISE_QUERY, site_id),
        answer_form=forms.get("answer") or AnswerForm(prefix="answer"),
        close_form=forms.get("close") or CloseForm(prefix="close"),
        reopen_form=forms.get("reopen") or ReopenForm(prefix="reopen"),
    ), (422 if forms else 200)


@bp.route("/queries/<int:query_id>")
@require(Perm.RAISE_QUERY, Perm.ANSWER_QUERY)
def show_query(query_id: int):
    """One query: what it is about, its thread, and what the user may do next."""
    return _thread(_query_or_404(query_id))


def _step(query_id: int, name: str, form_class, action, done: str):
    query = _query_or_404(query_id)
    form = form_class(prefix=name)
    if transaction.submit(form, lambda: action(query, form.text.data)):
        flash(done, "success")
        return redirect(url_for("queries.show_query", query_id=query.id))
    return _thread(query, **{name: form})


@bp.post("/queries/<int:query_id>/answer")
@require(Perm.ANSWER_QUERY)
def answer_query(query_id: int):
    """The site answers."""
    return _step(
        query_id,
        "answer",
        AnswerForm,
        lambda q, text: services.answer_query(q, text, actor=current_user),
        ANSWERED,
    )


@bp.post("/queries/<int:query_id>/close")
@require(Perm.RAISE_QUERY)
def close_query(query_id: int):
    """The side that raised it closes it."""
    return _step(
        query_id,
        "close",
        CloseForm,
        lambda q, text: services.close_query(q, text, actor=current_user),
        CLOSED,
    )


@bp.post("/queries/<int:query_id>/reopen")
@require(Perm.RAISE_QUERY)
def reopen_query(query_id: int):
    """The side that raised it reopens it, saying why."""
    return _step(
        query_id,
        "reopen",
        ReopenForm,
        lambda q, text: services.reopen_query(q, text, actor=current_user),
        REOPENED,
    )


def _target() -> services.QueryTarget:
    args = request.values
    visit = args.get("visit") or ""
    repeat = bounded_int(args.get("repeat") or "1")
    row = bounded_int(args.get("row")) if args.get("row") else None
    if not visit or not repeat or (args.get("row") and not row):
        abort(404)
    return services.QueryTarget(
        visit,
        repeat,
        args.get("form") or None,
        args.get("group") or None,
        row,
        args.get("item") or None,
    )


@bp.route("/subjects/<identifier>/queries/new", methods=["GET", "POST"])
@require(Perm.RAISE_QUERY)
def raise_query(identifier: str):
    """Raise a query on a visit, form, row or item of the subject (given in the address)."""
    subject = db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier))
    if subject is None or not can(current_user, Perm.VIEW_SUBJECTS, subject.site_id):
        abort(404)
    study = current_study()
    target = _target()
    try:
        services.resolve_target(study, subject, target)
    except NotFound:
        abort(404)
    form = RaiseForm()
    made: list[Query] = []

    def raise_it() -> None:
        made.append(services.open_query(study, subject, target, form.text.data, actor=current_user))

    if transaction.submit(form, raise_it):
        flash(RAISED, "success")
        return redirect(url_for("queries.show_query", query_id=made[0].id))
    page = render_template(
        "queries/new.html",
        subject=subject,
        target=target,
        about=listing.describe(study, target),
        form=form,
    )
    return page, (422 if form.is_submitted() else 200)
