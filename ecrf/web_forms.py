"""Base class of the hand-written web forms (WTForms)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm


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

    def attach_error(self, field: str | None, message: str) -> None:
        """Show a service's refusal at the field it concerns, or at the top of the form."""
        target = getattr(self, field, None) if field else None
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            self.form_errors.append(message)
