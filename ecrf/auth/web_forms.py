"""Sign-in, password and user-management web forms (WTForms)."""

from __future__ import annotations

from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ecrf.auth.roles import Role
from ecrf.web_forms import BaseForm

ALL_SITES_CHOICE = ""


class LoginForm(BaseForm):
    username = StringField("Username", validators=[DataRequired("Enter your username.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
    password = PasswordField("New password", validators=[DataRequired("Choose a new password.")])
    confirm = PasswordField(
        "New password again",
        validators=[EqualTo("password", "The two new passwords differ.")],
    )


class UserCreateForm(BaseForm):
    username = StringField(
        "Username",
        validators=[DataRequired("Choose a username."), Length(max=40)],
        description="Lower-case letters, digits, '.', '_' or '-'. It can never be reused.",
    )
    full_name = StringField(
        "Full name", validators=[DataRequired("Give the person's full name."), Length(max=200)]
    )
    email = StringField("E-mail", validators=[Optional(), Length(max=254)])
    password = PasswordField(
        "Initial password",
        validators=[DataRequired("Choose an initial password.")],
        description="At least 12 characters, not containing the username.",
    )
    confirm = PasswordField(
        "Initial password again", validators=[EqualTo("password", "The two passwords differ.")]
    )
    role = SelectField("First role", choices=[], validate_choice=True)
    site = SelectField("At site", choices=[], validate_choice=True)


class RoleGrantForm(BaseForm):
    role = SelectField("Role", choices=[], validate_choice=True)
    site = SelectField("At site", choices=[], validate_choice=True)


class PasswordResetForm(BaseForm):
    password = PasswordField("New password", validators=[DataRequired("Choose a new password.")])


class DeactivateForm(BaseForm):
    reason = TextAreaField(
        "Reason", validators=[DataRequired("Give the reason for deactivation."), Length(max=500)]
    )


def role_choices(roles: list[Role], *, optional: bool = False) -> list[tuple[str, str]]:
    choices = [(r.value, r.label) for r in roles]
    return [("", "— no role yet —"), *choices] if optional else choices


def site_choices(sites, *, allow_all: bool) -> list[tuple[str, str]]:
    choices = [(s.code, f"{s.code} — {s.name}") for s in sites]
    return [(ALL_SITES_CHOICE, "All sites"), *choices] if allow_all else choices
