"""`ecrf sites ...`: the trial's sites."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ecrf import transaction
from ecrf.extensions import db
from ecrf.records.sites import all_sites, get_site
from ecrf.study import services, subjects

sites_cli = AppGroup("sites", help="Add and list the trial's sites.")


@sites_cli.command("add")
@click.argument("code")
@click.argument("name")
def add_site(code, name):
    """Add a site with CODE (such as BDX) and NAME."""
    site = transaction.command(lambda: services.add_site(code, name, actor=None))
    click.echo(f"Added site {site.code}: {site.name}.")


@sites_cli.command("list")
def list_sites():
    """List sites: code, then name."""
    for site in all_sites():
        click.echo(f"{site.code}\t{site.name}")


subjects_cli = AppGroup("subjects", help="List the trial's subjects.")


@subjects_cli.command("list")
@click.option("--site", "site_code", help="Only the subjects of this site (code).")
def list_subjects(site_code):
    """One subject a line: identifier, then status (then site)."""
    if site_code and get_site(site_code) is None:
        raise click.ClickException(f"No site with code {site_code!r}.")
    query = subjects.visible_subjects_query(None, site_code=site_code)
    for subject in db.session.scalars(query):
        click.echo(f"{subject.identifier}\t{subject.status.value}\t{subject.site.code}")
