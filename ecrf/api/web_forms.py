"""The web form that creates a personal access token on a user's page."""

from __future__ import annotations

from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ecrf.api.tokens import DEFAULT_DAYS, MAX_DAYS, NAME_MAX
from ecrf.web_forms import BaseForm


class TokenCreateForm(BaseForm):
    name = StringField(
        "Token name",
        validators=[
            DataRequired("Name the token after the script or person that will use it."),
            Length(max=NAME_MAX),
        ],
        description="What the token is for, e.g. “weekly safety listing script”.",
    )
    days = IntegerField(
        "Valid for (days)",
        default=DEFAULT_DAYS,
        validators=[
            InputRequired(f"Give a lifetime from 1 to {MAX_DAYS} days."),
            NumberRange(1, MAX_DAYS, f"A token lasts from 1 to {MAX_DAYS} days."),
        ],
    )
