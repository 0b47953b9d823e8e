"""`ecrf tokens …`: personal access tokens of the JSON API, from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ecrf import transaction
from ecrf.api import tokens
from ecrf.api.models import ApiToken
from ecrf.auth.services import get_user
from ecrf.db import utcnow
from ecrf.extensions import db

tokens_cli = AppGroup("tokens", help="Create, list and revoke personal tokens of the JSON API.")

NO_USER = "No account {username!r}."
NO_TOKEN = "No token with id {token_id}."
SHOWN_ONCE = (
    "Token {name!r} for {username} (id {id}), valid until {expires}.\n"
    "It is shown only now; store it in a secret store:\n{value}"
)


def _fail(message: str) -> None:
    raise click.ClickException(message)


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for (a script, a person).")
@click.option(
    "--days",
    type=int,
    default=tokens.DEFAULT_DAYS,
    show_default=True,
    help=f"Lifetime in days, 1 to {tokens.MAX_DAYS}.",
)
def create_token(username, name, days):
    """Create a token for USERNAME and print it once."""
    user = get_user(username)
    if user is None:
        _fail(NO_USER.format(username=username))
    token, value = transaction.command(
        lambda: tokens.create_token(user, name, days=days, actor=None)
    )
    click.echo(
        SHOWN_ONCE.format(
            name=token.name,
            username=user.username,
            id=token.id,
            expires=token.expires_at.isoformat(timespec="seconds"),
            value=value,
        )
    )


@tokens_cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include revoked and expired tokens.")
def list_tokens(show_all):
    """List tokens: id, account, name, state, expiry, last use."""
    now = utcnow()
    for token in tokens.all_tokens(include_inactive=show_all):
        used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "never"
        click.echo(
            f"{token.id}\t{token.user.username}\t{token.name}\t{token.hint}…\t"
            f"{token.state(now)}\tuntil {token.expires_at.isoformat(timespec='minutes')}\t"
            f"used {used}"
        )


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def revoke_token(token_id, yes):
    """Revoke the token with id TOKEN_ID for good."""
    token = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None:
        _fail(NO_TOKEN.format(token_id=token_id))
    if not yes:
        click.confirm(f"Revoke token {token.name!r} of {token.user.username}?", abort=True)
    transaction.command(lambda: tokens.revoke_token(token, actor=None))
    click.echo(f"Token {token.id} revoked.")
