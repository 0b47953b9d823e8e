"""Lock pages: the list of locks (active, and lifted with why) with the study freeze; locking
a form, a visit, a subject or a site (from their pages) or the study, with an optional
reason; one lock, and lifting it with its reason. Data managers only (``Perm.LOCK_DATA``),
checked at the target's site."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import Length

from ecrf import transaction
from ecrf.auth.permissions import can, require
from ecrf.auth.roles import Perm
from ecrf.converters import bounded_int
from ecrf.errors import NotFound
from ecrf.extensions import db
from ecrf.locks import listing, services
from ecrf.locks.models import DataLock, LockLevel
from ecrf.records.loader import current_study
from ecrf.records.models import Subject
from ecrf.records.sites import get_site
from ecrf.web_forms import BaseForm

bp = Blueprint("locks", __name__)

MAX = services.MAX_REASON
LOCKED = "Locked: {what}."
UNLOCKED = "Unlocked: {what}."


class LockForm(BaseForm):
    reason = TextAreaField(
        "Reason (optional)",
        validators=[Length(max=MAX)],
        description="Kept with the lock and in the audit trail, e.g. “cleaned for the interim"
        " analysis”.",
    )


class UnlockForm(BaseForm):
    reason = TextAreaField(
        "Why unlock",
        validators=[Length(max=MAX)],
        description="Required; kept with the lock's history and in the audit trail.",
    )


@bp.app_context_processor
def lock_helpers():
    """What the pages of other packages use to show locks: the banner's text, and whether
    the user locks at a site."""

    def may_lock(site_id: int | None) -> bool:
        return can(current_user, Perm.LOCK_DATA, site_id) if site_id is not None else False

    return {
        "lock_notice": lambda lock: services.notice(lock, current_study()),
        "may_lock": may_lock,
    }


def _target() -> services.LockTarget:
    """The target named in the address (site, subject, visit, repeat, form); 404 for one the
    user may not see or that does not exist."""
    args = request.values
    site = subject = None
    if args.get("subject"):
        subject = db.session.scalar(
            db.select(Subject).where(Subject.identifier == args["subject"].upper())
        )
        if subject is None or not can(current_user, Perm.VIEW_SUBJECTS, subject.site_id):
            abort(404)
    elif args.get("site"):
        site = get_site(args["site"])
        if site is None or not can(current_user, Perm.LOCK_DATA, site.id):
            abort(404)
    if subject is None and (args.get("visit") or args.get("form")):
        abort(404)
    if args.get("form") and not args.get("visit"):
        abort(404)
    repeat = bounded_int(args.get("repeat") or "1")
    if not repeat:
        abort(404)
    target = services.LockTarget(
        site=site,
        subject=subject,
        visit_oid=args.get("visit") or None,
        visit_repeat=repeat,
        form_oid=args.get("form") or None,
    )
    try:
        services.check_target(current_study(), target)
    except NotFound:
        abort(404)
    return target


def target_url(lock: DataLock) -> str:
    """The page of what ``lock`` holds."""
    if lock.level is LockLevel.FORM:
        return url_for(
            "crf.edit_entry",
            identifier=lock.subject.identifier,
            visit_oid=lock.visit_oid,
            repeat=lock.visit_repeat,
            form_oid=lock.form_oid,
        )
    if lock.level is LockLevel.VISIT:
        return (
            url_for("study.show_subject", identifier=lock.subject.identifier)
            + f"#visit-{lock.visit_oid}-{lock.visit_repeat}"
        )
    if lock.level is LockLevel.SUBJECT:
        return url_for("study.show_subject", identifier=lock.subject.identifier)
    if lock.level is LockLevel.SITE:
        return url_for("study.show_site", code=lock.site.code)
    return url_for("locks.list_locks")


@bp.route("/locks")
@require(Perm.LOCK_DATA)
def list_locks():
    """The active locks and the latest lifted ones, at the user's sites; the study freeze."""
    study = current_study()
    return render_template(
        "locks/list.html",
        active=listing.active_locks(current_user),
        lifted=listing.lifted_locks(current_user),
        describe=lambda lock: listing.describe(study, lock),
        target_url=target_url,
        study_lock=services.study_lock(),
        may_freeze=services.may_lock_study(current_user),
    )


@bp.route("/locks/new", methods=["GET", "POST"])
@require(Perm.LOCK_DATA)
def new_lock():
    """Lock the target given in the address, with an optional reason."""
    study = current_study()
    target = _target()
    services.require_lock_right(current_user, target)
    form = LockForm()
    made: list[DataLock] = []
    what = listing.describe_target(study, target)

    def lock_it() -> None:
        made.append(services.lock(study, target, form.reason.data, actor=current_user))

    if transaction.submit(form, lock_it):
        flash(LOCKED.format(what=what), "success")
        return redirect(target_url(made[0]))
    page = render_template(
        "locks/new.html",
        target=target,
        what=what,
        form=form,
        covering=services.covering_target(target),
        study=target.level is LockLevel.STUDY,
    )
    return page, (422 if form.is_submitted() else 200)


def _lock_or_404(lock_id: int) -> DataLock:
    data_lock = db.session.get(DataLock, lock_id)
    # Another site's lock answers like a missing one.
    if data_lock is None or not listing.may_see(current_user, data_lock):
        abort(404)
    return data_lock


def _detail(data_lock: DataLock, form: UnlockForm | None = None):
    study = current_study()
    page = render_template(
        "locks/detail.html",
        lock=data_lock,
        what=listing.describe(study, data_lock),
        target_url=target_url(data_lock),
        form=form or UnlockForm(),
        may_unlock=data_lock.active
        and (
            services.may_lock_study(current_user)
            if data_lock.level is LockLevel.STUDY
            else can(current_user, Perm.LOCK_DATA, data_lock.site_id)
        ),
    )
    return page, (422 if form is not None else 200)


@bp.route("/locks/<int:lock_id>")
@require(Perm.LOCK_DATA)
def show_lock(lock_id: int):
    """One lock: what it holds, who locked it and why; lifting it, with a reason."""
    return _detail(_lock_or_404(lock_id))


@bp.post("/locks/<int:lock_id>/unlock")
@require(Perm.LOCK_DATA)
def unlock(lock_id: int):
    """Lift the lock, saying why."""
    data_lock = _lock_or_404(lock_id)
    form = UnlockForm()
    if transaction.submit(
        form, lambda: services.unlock(data_lock, form.reason.data, actor=current_user)
    ):
        flash(UNLOCKED.format(what=listing.describe(current_study(), data_lock)), "success")
        return redirect(target_url(data_lock))
    return _detail(data_lock, form)
