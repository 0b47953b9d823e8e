"""`ecrf users ...`: account administration from the command line."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ecrf import transaction
from ecrf.auth import services
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.records.sites import get_site

users_cli = AppGroup("users", help="Create, list, deactivate and unlock user accounts.")


def fail(message: str) -> None:
    raise click.ClickException(message)


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role",
    "role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="Role to grant.",
)
@click.option("--site", "site_code", help="Site code the role applies to (default: all sites).")
@click.option("--name", "full_name", help="Full name (default: the username).")
@click.option("--email", help="E-mail address.")
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from standard input (first line), never from the command line.",
)
@click.option(
    "--no-change-required",
    is_flag=True,
    help="The account's owner typed the password: do not make them change it at the first"
    " sign-in (by default a password set by an operator must be changed).",
)
def create_user(username, role, site_code, full_name, email, password_stdin, no_change_required):
    """Create USERNAME with a role at a site, or at all sites."""
    password = sys.stdin.readline().rstrip("\r\n")
    site = None
    if site_code:
        site = get_site(site_code)
        if site is None:
            fail(f"No site with code {site_code!r}. Add it with `ecrf sites add`.")
    user = transaction.command(
        lambda: services.create_user(
            username,
            full_name or username,
            password,
            email=email,
            role=Role(role),
            site=site,
            actor=None,
            must_change_password=not no_change_required,
        ),
        with_field=True,
    )
    click.echo(
        f"Created {user.username} ({Role(role).label} at {site.code if site else 'all sites'})."
    )


@users_cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include deactivated accounts.")
def list_users(show_all):
    """List accounts: username, status, roles."""
    query = sa.select(User).order_by(User.username)
    if not show_all:
        query = query.where(User.active.is_(True))
    for user in db.session.scalars(query):
        roles = ", ".join(f"{a.role.value}@{a.scope_label}" for a in user.roles) or "-"
        status = "active" if user.active else "deactivated"
        if services.locked_until(user.username):
            status += ",locked"
        click.echo(f"{user.username}\t{status}\t{roles}\t{user.full_name}")


@users_cli.command("deactivate")
@click.argument("username")
@click.option("--reason", default="Deactivated by an operator.", show_default=True)
def deactivate_user(username, reason):
    """Deactivate USERNAME for good; the username is never reused."""
    user = services.get_user(username)
    if user is None:
        fail(f"No user {username!r}.")
    transaction.command(lambda: services.deactivate_user(user, actor=None, reason=reason))
    click.echo(f"Deactivated {user.username}.")


@users_cli.command("unlock")
@click.argument("username")
def unlock_user(username):
    """Lift a sign-in lockout on USERNAME."""
    transaction.command(lambda: services.unlock(username, actor=None))
    click.echo(f"Unlocked {services.normalise_username(username)}.")
