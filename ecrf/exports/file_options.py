"""What the commands writing one CSV file share: its path, and the one site it may cover."""

from __future__ import annotations

from pathlib import Path

import click

from ecrf.records.sites import get_site

NO_SUCH_SITE = "There is no site {code}."
IS_A_FOLDER = "{path} is a folder: give the CSV file's path."


def file_and_site(out: Path, site_code: str | None) -> list[int] | None:
    """The ids of the site ``--site`` names (None: every site), once ``--out`` is checked
    to be a file's path; a bad option is a usage error naming it."""
    if out.is_dir():
        raise click.BadParameter(IS_A_FOLDER.format(path=out), param_hint="--out")
    if not site_code:
        return None
    site = get_site(site_code)
    if site is None:
        raise click.BadParameter(NO_SUCH_SITE.format(code=site_code), param_hint="--site")
    return [site.id]
