"""``write_sdtm``: the SDTM datasets of the sites a reader may see, as CSV, SAS transport
v5 and Dataset-JSON, with their define, zipped.

Each domain is read as one stream of the forms that feed it (``iter_rows``), one subject
at a time: a subject's records are sorted and numbered (--SEQ) and written out before the
next subject is read, so memory holds one subject, not the study (SAS transport is the
exception: pyreadstat writes a dataset from a data frame, so one domain is held then).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ecrf.audit.checkpoints import write_checkpoint
from ecrf.exports.export_event import record_export
from ecrf.exports.privacy import withholds_free_text
from ecrf.exports.sdtm import events, findings, special, tumours
from ecrf.exports.sdtm.context import Context, FormData, gather
from ecrf.exports.sdtm.define_xml import write_define_xml
from ecrf.exports.sdtm.metadata import DATASETS, SUPPLEMENTAL, Dataset, supp
from ecrf.exports.sdtm.writers import (
    CsvDataset,
    Written,
    write_dataset_json,
    write_define,
    write_xpt,
)
from ecrf.exports.stream import iter_rows
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Site

if TYPE_CHECKING:
    from ecrf.auth.models import User

Mapper = Callable[[Context, str, list[FormData]], Iterator[dict]]

#: Domain → (the forms that feed it, the mapping).
MAPPINGS: dict[str, tuple[tuple[str, ...], Mapper]] = {
    "DM": (special.FORMS, special.map_dm),
    "IE": (events.IE_FORMS, events.map_ie),
    "MH": (events.MH_FORMS, events.map_mh),
    "CM": (events.CM_FORMS, events.map_cm),
    "EX": (events.EX_FORMS, events.map_ex),
    "AE": (events.AE_FORMS, events.map_ae),
    "LB": (findings.LB_FORMS, findings.map_lb),
    "VS": (findings.VS_FORMS, findings.map_vs),
    "TU": (tumours.TU_FORMS, tumours.map_tu),
    "TR": (tumours.TR_FORMS, tumours.map_tr),
    "RS": (tumours.RS_FORMS, tumours.map_rs),
}
FOLDERS = ("csv", "xpt", "json")
ARCHIVE = "sdtm.zip"
DEFINE = "define.csv"
DEFINE_XML = "define.xml"
MANIFEST = "manifest.json"


def _sort_key(dataset: Dataset) -> Callable[[dict], tuple]:
    def key(record: dict) -> tuple:
        parts = []
        for name in dataset.keys:
            value = record.get(name)
            if value is None or value == "":
                parts.append((2, 0, ""))
            elif isinstance(value, int | float):
                parts.append((0, value, ""))
            else:
                parts.append((1, 0, str(value)))
        return tuple(parts)

    return key


def _write_domain(
    ctx: Context,
    dataset: Dataset,
    site_ids: Collection[int] | None,
    folder: Path,
) -> list[Written]:
    """Write ``dataset`` (and its SUPP-- when it has qualifiers) as CSV, streamed."""
    forms, mapper = MAPPINGS[dataset.name]
    sequence = f"{dataset.name}SEQ" if f"{dataset.name}SEQ" in dataset.names else None
    qualifiers = SUPPLEMENTAL.get(dataset.name, ())
    parent = CsvDataset(dataset, folder / f"{dataset.name.lower()}.csv")
    extra = supp(dataset.name) if qualifiers else None
    child = CsvDataset(extra, folder / f"{extra.name.lower()}.csv") if extra else None
    key = _sort_key(dataset)
    try:
        for subject, rows in groupby(iter_rows(site_ids, form_oid=forms), lambda r: r.subject):
            records = sorted(mapper(ctx, subject, gather(list(rows))), key=key)
            for number, record in enumerate(records, start=1):
                if sequence:
                    record[sequence] = number
                parent.write(record)
                for qnam, label, origin in qualifiers if child is not None else ():
                    value = record.get("_supp", {}).get(qnam)
                    if value:
                        child.write(
                            {
                                "STUDYID": ctx.studyid,
                                "RDOMAIN": dataset.name,
                                "USUBJID": record["USUBJID"],
                                "IDVAR": sequence,
                                "IDVARVAL": number,
                                "QNAM": qnam,
                                "QLABEL": label,
                                "QVAL": value,
                                "QORIG": origin,
                            }
                        )
    finally:
        written = [parent.close()]
        if child is not None:
            written.append(child.close())
    return written


def _site_codes(site_ids: Collection[int] | None) -> str:
    if site_ids is None:
        return "all sites"
    codes = db.session.scalars(sa.select(Site.code).where(Site.id.in_(list(site_ids))))
    return ",".join(sorted(codes)) or "no site"


def write_sdtm(
    study: LoadedStudy,
    out: Path,
    *,
    site_ids: Collection[int] | None,
    actor: User | None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the SDTM extract of ``study`` under the folder ``out`` and return its zip.

    ``out`` receives csv/, xpt/ and json/ (one file per dataset, e.g. csv/dm.csv,
    xpt/dm.xpt, json/dm.json), define.xml (Define-XML 2.0) and define.csv (the same
    metadata as a table), manifest.json (UTC time, definition version, record counts, the
    SHA-256 of every file and the audit checkpoint the extract corresponds to), and
    sdtm.zip holding them all. Free text is
    withheld as :func:`withholds_free_text` says for ``actor``; the export is recorded in
    the audit trail (action "export", entity "extract", id "sdtm") and committed.

    :param site_ids: the sites the reader may see (None: all); the caller checks them.
    :param progress: called with (datasets done, datasets in all) after each dataset.
    """
    out = Path(out)
    ctx = Context(study, withhold_free_text=withholds_free_text(actor))
    created = datetime.now(UTC)
    for name in FOLDERS:
        (out / name).mkdir(parents=True, exist_ok=True)
    written: list[Written] = []
    for done, dataset in enumerate(DATASETS, start=1):
        for item in _write_domain(ctx, dataset, site_ids, out / "csv"):
            name = item.dataset.name.lower()
            write_xpt(item, out / "xpt" / f"{name}.xpt")
            write_dataset_json(
                item,
                out / "json" / f"{name}.json",
                study_oid=ctx.studyid,
                version=study.version,
                created=created,
            )
            written.append(item)
        if progress is not None:
            progress(done, len(DATASETS))
    qualifiers = {f"SUPP{domain}": q for domain, q in SUPPLEMENTAL.items()}
    define = write_define(written, qualifiers, out / DEFINE)
    define_xml = write_define_xml(
        written,
        qualifiers,
        out / DEFINE_XML,
        study_oid=ctx.studyid,
        study_name=study.study.name,
        protocol=study.study.protocol,
        version=study.version,
        created=created,
    )
    files = [define, define_xml]
    for item in written:
        name = item.dataset.name.lower()
        files += [item.path, out / "xpt" / f"{name}.xpt", out / "json" / f"{name}.json"]
    summary = "; ".join(f"{w.dataset.name} {w.records}" for w in written)
    record_export(
        "sdtm",
        actor=actor,
        site_ids=site_ids,
        new=f"SDTM datasets of {_site_codes(site_ids)}: {summary}",
        definition_version=study.version,
    )
    db.session.commit()
    # The trail's head once the export is recorded: what this extract corresponds to.
    checkpoint = write_checkpoint()
    manifest = out / MANIFEST
    manifest.write_text(
        json.dumps(
            {
                "created": created.isoformat(timespec="seconds"),
                "study": ctx.studyid,
                "definition_version": study.version,
                "sites": _site_codes(site_ids),
                "free_text_withheld": ctx.withhold_free_text,
                "datasets": {w.dataset.name: w.records for w in written},
                "audit_checkpoint": {
                    "seq": checkpoint.seq,
                    "hash": checkpoint.hash,
                    "at": checkpoint.when,
                },
                "sha256": {
                    path.relative_to(out).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
                    for path in files
                },
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    archive = out / ARCHIVE
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in [manifest, *files]:
            bundle.write(path, path.relative_to(out).as_posix())
    return archive
