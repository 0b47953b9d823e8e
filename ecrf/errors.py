"""Domain errors raised by services, and the one place that turns them into HTTP pages."""

from __future__ import annotations

import logging

from flask import Flask, Response, abort, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

#: Where the API lives; every error under it is answered in JSON.
API_PREFIX = "/api/"
#: The realm named in WWW-Authenticate (RFC 6750).
REALM = "ecrf"


class DomainError(Exception):
    """A rule of the trial or of the system refused the action; the message is for users."""

    status = 422
    title = "Not possible"

    def __init__(
        self, message: str, *, field: str | None = None, before_view: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        #: Raised before the view ran (by its permission check): nothing was written.
        self.before_view = before_view


class RuleViolation(DomainError):
    status = 422
    title = "Not possible"


class PermissionDenied(DomainError):
    status = 403
    title = "Not allowed"


class Conflict(DomainError):
    status = 409
    title = "Changed meanwhile"


class Locked(Conflict):
    title = "Locked"


class NotFound(DomainError):
    status = 404
    title = "Not found"


_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Not possible",
    500: "Something went wrong",
}
_DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have the right to see this page or do this action.",
    404: "There is no such page. Check the address, or go back to the home page.",
    405: "This page does not accept that kind of request.",
    409: "The record changed or is locked; reload it and try again.",
    422: "The request was understood but cannot be carried out.",
    500: "The server met an unexpected error. Nothing was saved; the error was logged.",
}


def error_page(status: int, message: str | None = None, title: str | None = None):
    title = title or _TITLES.get(status, "Error")
    message = message or _DEFAULT_MESSAGES.get(status, "")
    if request.path.startswith(API_PREFIX):  # scripts get JSON, never an HTML page
        return json_error(status, title, message)
    body = render_template(
        "error.html",
        status=status,
        title=title,
        message=message,
    )
    return body, status


def register_error_handlers(app: Flask) -> None:
    from ecrf.extensions import db

    @app.before_request
    def refuse_nul_characters():
        # No text of the trial contains NUL, and PostgreSQL cannot store it: refuse it plainly.
        # Every value of a repeated field or argument, not only the first that .values() gives.
        values = [
            *(v for vs in request.args.listvalues() for v in vs),
            *(v for vs in request.form.listvalues() for v in vs),
            request.path,
        ]
        if any("\x00" in value for value in values):
            abort(400)
        return None

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        # Nothing the request wrote is kept, nor read by the page. A refusal before the view
        # wrote nothing: rolling back would only make the page read its user again.
        if not exc.before_view:
            db.session.rollback()
        return error_page(exc.status, exc.message, exc.title)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        from ecrf.resume.web import keep_after_csrf_failure

        # A signed-out browser posting a form: keep what was typed rather than refuse it.
        kept = keep_after_csrf_failure()
        if kept is not None:
            return kept
        return error_page(
            400,
            "The form had expired or came from elsewhere. Go back, reload the page and "
            "submit it again.",
            "Form expired",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = _DEFAULT_MESSAGES.get(status) or exc.description
        return error_page(status, message)

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError):
        db.session.rollback()
        if "database is locked" not in str(exc.orig):
            log.exception("database error")
            return error_page(500)
        # SQLite lets one writer at a time; another save won the race.
        return error_page(
            503,
            "The database was busy with another save. Nothing was saved: go back and save again.",
            "Busy",
        )

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("unhandled error")
        db.session.rollback()
        return error_page(500)


def json_error(status: int, title: str, message: str, *, field: str | None = None) -> Response:
    """``{"error": {status, title, message}}``, with the ``field`` at fault when one is."""
    error: dict = {"status": status, "title": title, "message": message}
    if field:
        error["field"] = field
    response = jsonify(error=error)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer realm="{REALM}"'
    return response
