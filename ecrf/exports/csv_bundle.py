"""The tidy CSV bundle: one CSV per form and repeating group, a long file, the data
dictionary, a README and a manifest, zipped.

Written in constant memory: every file is written while the rows stream from the database
in one ordered query (``iter_rows``), at most one form entry's values held at a time, and
the zip is built from the files on disk. Layout and conventions: ``csv_layout`` and the
bundle's README.txt (``csv_readme``).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Collection
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ecrf.audit.checkpoints import write_checkpoint
from ecrf.audit.services import cli_actor
from ecrf.auth.permissions import sites_with
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.errors import PermissionDenied
from ecrf.exports.csv_layout import LONG_FILE, LONG_KEYS, Table, study_tables
from ecrf.exports.csv_readme import README_FILE, README_TEXT
from ecrf.exports.dictionary import DICTIONARY_FILE, HEADER, dictionary_rows
from ecrf.exports.export_event import record_export
from ecrf.exports.manifest import Manifest
from ecrf.exports.privacy import is_free_text, withholds_free_text
from ecrf.exports.stream import RowRecord, count_rows, iter_rows
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Site
from ecrf.records.units import to_standard

if TYPE_CHECKING:
    from ecrf.auth.models import User
    from forms.language import Form

Progress = Callable[[int, int], None]

KIND = "csv"
#: Rows between two progress reports (a job saves each report to Redis: not every row).
PROGRESS_EVERY = 200

NOT_ALLOWED = "You may not export data of these sites."
ALL_SITES_LABEL = "all sites"
WITHHELD_LABEL = "withheld (columns absent, see dictionary.csv)"
INCLUDED_LABEL = "included"
STRAY_MISSING = "{file}: {item} holds a missing-data code its definition does not allow"


def write_csv_bundle(
    study: LoadedStudy,
    out_dir: Path,
    *,
    site_ids: Collection[int] | None,
    actor: User | None,
    progress: Progress | None = None,
    withhold_free_text: bool | None = None,
) -> Path:
    """Write the bundle as a zip under ``out_dir`` and return the zip's path.

    Records one audit event (action "export", entity "extract", id "csv") and commits it.

    :param site_ids: the sites to extract (None: every site).
    :param actor: who asked (None: the command-line operator); checked against
        ``Perm.EXPORT_DATA`` at every site of the extract.
    :param withhold_free_text: leave free-text items out; by default, as
        :func:`withholds_free_text` decides for ``actor``.
    :raises PermissionDenied: ``actor`` may not export one of the sites.
    :raises OSError: ``out_dir`` cannot be written (nothing is left behind).
    """
    _check_scope(actor, site_ids)
    withhold = withholds_free_text(actor) if withhold_free_text is None else withhold_free_text
    site_codes = _site_codes(site_ids)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # The chain's head as the reading starts: what the extract can be held against.
    checkpoint = write_checkpoint()
    generated_at = utcnow()
    generated_by = actor.username if actor is not None else cli_actor()
    name = f"{study.study.oid}-csv-{generated_at.strftime('%Y%m%dT%H%M%SZ')}"
    manifest = Manifest(
        kind=KIND,
        study=study.study.oid,
        definition_version=study.version,
        generated_at=generated_at,
        generated_by=generated_by,
        sites=site_codes,
        free_text_withheld=withhold,
        checkpoint=checkpoint,
    )
    forms = list(study_tables(study.study, withhold=lambda item: withhold and is_free_text(item)))
    ticker = _Ticker(progress, count_rows(site_ids))

    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".csv-") as tmp:
        folder = Path(tmp) / name
        folder.mkdir()
        counts = _write_tables(folder, study.study.oid, forms, site_ids, ticker, withhold)
        ticker.finish()
        for _, tables in forms:
            for table in tables:
                manifest.add(folder / table.file, counts[table.file])
        manifest.add(folder / LONG_FILE, counts[LONG_FILE])
        all_tables = [table for _, tables in forms for table in tables]
        manifest.add(_write_dictionary(folder, study, all_tables), None)
        readme = folder / README_FILE
        readme.write_text(
            README_TEXT.format(
                study=study.study.name,
                version=study.version,
                generated_at=manifest.generated_at.isoformat(timespec="seconds"),
                generated_by=generated_by,
                sites=", ".join(site_codes) if site_codes is not None else ALL_SITES_LABEL,
                free_text=WITHHELD_LABEL if withhold else INCLUDED_LABEL,
            ),
            encoding="utf-8",
        )
        manifest.add(readme, None)
        manifest.write(folder)
        zip_path = _zip(folder, out_dir)

    record_export(
        KIND,
        actor=actor,
        site_ids=site_ids,
        new=json.dumps(
            {
                "file": zip_path.name,
                "sites": site_codes if site_codes is not None else "all",
                "free_text_withheld": withhold,
                "checkpoint": checkpoint.seq,
                "rows": {f.name: f.rows for f in manifest.files if f.rows is not None},
            },
            sort_keys=True,
        ),
        definition_version=study.version,
    )
    db.session.commit()
    return zip_path


def _check_scope(actor: User | None, site_ids: Collection[int] | None) -> None:
    if actor is None:
        return
    allowed = sites_with(actor, Perm.EXPORT_DATA)
    if allowed is None:
        return
    if not allowed or site_ids is None or not set(site_ids) <= allowed:
        raise PermissionDenied(NOT_ALLOWED)


def _site_codes(site_ids: Collection[int] | None) -> list[str] | None:
    if site_ids is None:
        return None
    return list(
        db.session.scalars(
            sa.select(Site.code).where(Site.id.in_(list(site_ids))).order_by(Site.code)
        )
    )


class _Ticker:
    """Counts rows written and reports progress now and then."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def tick(self) -> None:
        self.done += 1
        if self.done % PROGRESS_EVERY == 0:
            self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def finish(self) -> None:
        # Rows committed during the export may make the count drift: end at 100 %.
        self.total = max(self.total, self.done)
        self.report()


def _keys(study_oid: str, row: RowRecord) -> list[Any]:
    return [
        study_oid,
        row.site_code,
        row.subject,
        row.visit_oid,
        row.visit_repeat,
        row.visit_date.isoformat() if row.visit_date else "",
        row.form_oid,
        row.entry_status,
        row.definition_version,
    ]


def _cells(table: Table, values: dict) -> list[str]:
    cells: list[str] = []
    for column in table.items:
        record = values.get(column.item.oid)
        cells.append(record.value or "" if record is not None else "")
        code = record.missing_code if record is not None else None
        if column.has_missing:
            cells.append(code or "")
        elif code:
            raise RuntimeError(STRAY_MISSING.format(file=table.file, item=column.item.oid))
        if column.has_units:
            cells += _unit_cells(column.item, record)
    return cells


def _unit_cells(item, record) -> list[str]:
    """The unit a value was entered in, and the value in the item's standard unit."""
    if record is None or record.value is None:
        return ["", ""]
    symbol = record.unit or item.standard_unit.symbol
    standard = to_standard(item, Decimal(record.value), symbol)
    return [symbol, format(standard.normalize(), "f")]


def _write_tables(
    folder: Path,
    study_oid: str,
    forms: list[tuple[Form, list[Table]]],
    site_ids: Collection[int] | None,
    ticker: _Ticker,
    withhold: bool,
) -> dict[str, int]:
    """Write every form's files and the long file in one pass over the rows, in ODM order
    (one query, rows streamed); the data rows written per file."""
    by_group = {
        (form.oid, group.oid): table
        for form, tables in forms
        for table in tables
        for group in table.groups
    }
    withheld = {(f.oid, c.item.oid) for f, tables in forms for t in tables for c in t.withheld}
    known = {
        (f.oid, c.item.oid) for f, tables in forms for t in tables for c in (*t.items, *t.withheld)
    }
    counts = {table.file: 0 for _, tables in forms for table in tables} | {LONG_FILE: 0}
    with ExitStack() as stack:
        writers = {}
        for name in counts:
            handle = stack.enter_context((folder / name).open("w", newline="", encoding="utf-8"))
            writers[name] = csv.writer(handle)
        for _, tables in forms:
            for table in tables:
                writers[table.file].writerow(table.header())
        long_out = writers[LONG_FILE]
        long_out.writerow([key.name for key in LONG_KEYS])
        # The non-repeating groups of one form entry make one row: gather them, then write.
        # Rows come entry by entry, so at most one entry's values are held at a time.
        pending: tuple[Table, list[Any], dict] | None = None
        pending_entry: tuple | None = None

        def flush() -> None:
            if pending is not None:
                table, keys, values = pending
                writers[table.file].writerow(keys + _cells(table, values))
                counts[table.file] += 1

        for row in iter_rows(site_ids):
            ticker.tick()
            keys = _keys(study_oid, row)
            for record in row.values.values():
                item = (row.form_oid, record.item_oid)
                # Items the definition no longer knows cannot be classified: withheld too.
                if item in withheld or (withhold and item not in known):
                    continue
                long_out.writerow(
                    [
                        *keys,
                        row.group_oid,
                        row.repeat_key,
                        record.item_oid,
                        record.value or "",
                        record.missing_code or "",
                        "Y" if record.derived else "N",
                        record.unit or "",
                    ]
                )
                counts[LONG_FILE] += 1
            table = by_group.get((row.form_oid, row.group_oid))
            if table is None:  # a group the definition no longer has: only in the long file
                continue
            if table.repeating:
                writers[table.file].writerow(
                    [*keys, row.group_oid, row.repeat_key, *_cells(table, row.values)]
                )
                counts[table.file] += 1
                continue
            entry = (row.subject, row.visit_oid, row.visit_repeat, row.form_oid)
            if entry != pending_entry:
                flush()
                pending, pending_entry = (table, keys, {}), entry
            pending[2].update(row.values)
        flush()
    return counts


def _write_dictionary(folder: Path, loaded, tables: list[Table]) -> Path:
    path = folder / DICTIONARY_FILE
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(dictionary_rows(loaded, tables))
    return path


def _zip(folder: Path, out_dir: Path) -> Path:
    """Zip ``folder`` (files streamed from disk) next to it as ``out_dir/NAME.zip``."""
    target = out_dir / f"{folder.name}.zip"
    number = 1
    while target.exists():  # two extracts in the same second
        number += 1
        target = out_dir / f"{folder.name}-{number}.zip"
    partial = folder.parent / "bundle.zip.part"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{target.stem}/{path.name}")
    os.replace(partial, target)
    return target
