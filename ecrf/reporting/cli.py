"""`ecrf report …`: the PDF reports from the command line."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from flask.cli import AppGroup

report_cli = AppGroup(
    "report", help="Write PDF reports (casebooks, annotated CRF, imaging, safety)."
)

UNWRITABLE = "Cannot write {path}: {reason}."


def write_file(path: Path, content: bytes) -> None:
    """Write a report's file whole (aside, then renamed), or stop with a clear message."""
    partial = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(content)
        partial.replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise click.ClickException(
            UNWRITABLE.format(path=path, reason=error.strerror or error)
        ) from None


@report_cli.command("casebook")
@click.argument("subject")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The PDF file to write."
)
def casebook_command(subject: str, out: str) -> None:
    """Write SUBJECT's casebook (e.g. BDX-001) as a PDF/A-3b file with its ODM attached."""
    from ecrf.errors import NotFound
    from ecrf.extensions import db
    from ecrf.reporting.casebook_pdf import render_casebook
    from ecrf.reporting.scope import subject_for_report

    try:
        found = subject_for_report(subject.strip().upper(), None)
    except NotFound:
        raise click.ClickException(f"There is no subject {subject}.") from None
    rendered = render_casebook(found, actor=None)
    write_file(Path(out), rendered.pdf)
    db.session.commit()
    click.echo(f"Casebook of {found.identifier} written to {out} ({len(rendered.pdf):,} bytes).")
