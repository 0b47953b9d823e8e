"""Request glue: keep a form posted by someone signed out, and give it back after sign-in.

A form post that arrives without a valid session (idle time-out, signed out elsewhere, or
the session cookie gone so the CSRF check failed) is kept server-side; the browser gets
only a random token in a cookie of its own (the session cookie is cleared at sign-in, and
clinical values never leave the server). After sign-in the user lands on the form again,
filled with what they typed, and saves it through the normal write path.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    after_this_request,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ecrf.extensions import db
from ecrf.resume.services import KEEP_FOR, NOT_KEPT, stash_submission, take_submission

#: The pages whose posts are kept: data entry forms.
KEPT_ENDPOINTS = frozenset({"crf.edit_entry"})
COOKIE = "ecrf_kept_form"
PATH_MAX = 500
#: Far above any form of the trial; anything bigger is not a form someone typed.
KEEP_MAX_CHARS = 100_000

MESSAGES = {
    "kept": "Your form was not saved because you were signed out. Sign in again: the values "
    "you typed are kept and will be shown again in the form.",
    "restored": "Your session had ended; the values you typed are shown again, not saved "
    "yet: check them and save.",
}


def keep_posted_form(user_id: int | None) -> Response | None:
    """For a data-entry post its sender may not make (signed out): keep the typed fields
    and send them to sign in, coming back to the form afterwards.

    None when the request is not such a post, or has nothing typed worth keeping. Ends the
    request, so it commits the kept copy.
    """
    if request.method != "POST" or request.endpoint not in KEPT_ENDPOINTS:
        return None
    if len(request.path) > PATH_MAX or _has_nul(request.path, *request.form.values()):
        return None  # not a form someone typed: the normal refusal follows
    fields = list(request.form.items(multi=True))
    size = sum(len(name) + len(value) for name, value in fields)
    if size > KEEP_MAX_CHARS or not any(_typed(name, value) for name, value in fields):
        return None  # nothing typed to keep: the usual sign-in redirect or refusal follows
    token = stash_submission(fields, user_id=user_id, path=request.path)
    db.session.commit()
    response = redirect(url_for("auth.login", next=request.path))
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(KEEP_FOR.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    flash(MESSAGES["kept"], "warning")
    return response


def keep_after_csrf_failure() -> Response | None:
    """A data-entry post refused by the CSRF check because the session cookie is gone.

    Kept only from a signed-out browser and a same-origin page: a cross-site page must not
    be able to prefill someone's form (a signed-in user's bad token stays a plain refusal).
    """
    if current_user.is_authenticated or not _same_origin():
        return None
    return keep_posted_form(None)


def kept_form_waiting() -> bool:
    """Whether the request carries the cookie of a kept form (else nothing to take, and no
    transaction to commit: a commit would expire what the page has read)."""
    return bool(request.cookies.get(COOKIE))


def take_posted_form() -> MultiDict | None:
    """The fields kept for this page and the signed-in user, removed as they are shown.

    The caller commits (the kept copy is deleted) and flashes :data:`MESSAGES` "restored".
    """
    token = request.cookies.get(COOKIE)
    fields = take_submission(token, user_id=current_user.id, path=request.path)
    if fields is None:
        return None

    @after_this_request
    def forget_cookie(response: Response) -> Response:
        response.delete_cookie(COOKIE, path="/")
        return response

    return MultiDict(fields)


def init_resume(app: Flask) -> None:
    """Register after the idle time-out, which keeps the posts of timed-out users itself."""

    @app.before_request
    def keep_post_of_signed_out_user():
        # Signed out elsewhere, or the account's sessions were ended: the cookie is still
        # there (so the CSRF check passed) but names nobody any more.
        if current_user.is_authenticated:
            return None
        return keep_posted_form(None)


def _typed(name: str, value: str) -> bool:
    # The version and the row lists are put in the page by the server, not typed.
    if name in NOT_KEPT or name == "version" or name.startswith("rows-"):
        return False
    return bool(value.strip())


def _has_nul(*texts: str) -> bool:
    return any("\x00" in text for text in texts)


def _same_origin() -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin:
        return False
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")
