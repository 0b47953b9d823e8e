"""Base class of the hand-written web forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm

from ecrf.errors import DomainError, NotFound, PermissionDenied
from ecrf.extensions import db


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Strips surrounding whitespace from every text input (not from passwords)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if unbound_field.field_class.__name__ != "PasswordField":
                filters = unbound_field.kwargs.get("filters", ())
                options = {**options, "filters": [_strip, *filters]}
            return unbound_field.bind(form=form, **options)

    def submit(self, action: Callable[[], Any]) -> bool:
        """Validate, then run ``action`` (a service call); commit on success.

        On a refusal the transaction is rolled back and the message attached to its field;
        PermissionDenied and NotFound are re-raised for the 403 and 404 pages. Returns whether
        it was saved.
        """
        if not self.validate_on_submit():
            return False
        try:
            action()
        except DomainError as exc:
            db.session.rollback()
            if isinstance(exc, (PermissionDenied, NotFound)):  # the 403 or 404 page
                raise
            self.attach_error(exc.field if exc.field in self else None, exc.message)
            return False
        db.session.commit()
        return True

    def attach_error(self, field: str | None, message: str) -> None:
        """Show a service's refusal at the field it concerns, or at the top of the form."""
        target = getattr(self, field, None) if field else None
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            self.form_errors.append(message)
