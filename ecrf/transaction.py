"""One transaction per request and per command, committed or rolled back in one place.

Views and commands hand their service calls to ``perform`` (or, for a web form, to
``submit``; for a command's refusals, to ``command``): the transaction commits when the
calls return and rolls back when they raise. Nothing else commits: not the views, not the
forms, not the services. The error handlers (``ecrf.errors``) roll back whatever reaches
them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from ecrf.errors import DomainError, NotFound, PermissionDenied
from ecrf.extensions import db
from ecrf.web_forms import BaseForm

T = TypeVar("T")


def perform(action: Callable[[], T]) -> T:
    """Run ``action``; commit when it returns, roll back when it raises (and re-raise)."""
    try:
        result = action()
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def submit(form: BaseForm, action: Callable[[], object]) -> bool:
    """A web form's save: validate ``form``, then ``perform(action)``. A refusal of the
    service is shown at the field it names (or atop the form) and nothing is kept;
    PermissionDenied and NotFound go on to the 403 and 404 pages. Returns whether it saved.
    """
    if not form.validate_on_submit():
        return False
    try:
        perform(action)
    except DomainError as exc:
        if isinstance(exc, (PermissionDenied, NotFound)):
            raise
        form.attach_error(exc.field if exc.field in form else None, exc.message)
        return False
    return True


def command(action: Callable[[], T], *, with_field: bool = False) -> T:
    """A command's work: ``perform(action)``; a refusal of the service ends the command with
    its message (exit status 1), prefixed with the field it names when ``with_field``."""
    try:
        return perform(action)
    except DomainError as exc:
        message = f"{exc.field}: {exc.message}" if with_field and exc.field else exc.message
        raise click.ClickException(message) from None
