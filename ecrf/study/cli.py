"""`ecrf sites ...`: the trial's sites."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ecrf.errors import DomainError
from ecrf.extensions import db
from ecrf.study import services

sites_cli = AppGroup("sites", help="Add and list the trial's sites.")


@sites_cli.command("add")
@click.argument("code")
@click.argument("name")
def add_site(code, name):
    """Add a site with CODE (e.g. BDX) and NAME."""
    try:
        site = services.add_site(code, name, actor=None)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Added site {site.code}: {site.name}.")


@sites_cli.command("list")
def list_sites():
    """List sites: code, then name."""
    for site in services.all_sites():
        click.echo(f"{site.code}\t{site.name}")
