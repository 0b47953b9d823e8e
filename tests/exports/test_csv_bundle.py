"""The tidy CSV bundle: loads into pandas with numbers as numbers, keys unique, every value
once in the long file, a dictionary of every column, checksums that match, free text withheld
from the sponsor, the site filter, derived values flagged, partial dates kept, audited."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth import services as auth_services
from ecrf.errors import PermissionDenied
from ecrf.exports.csv_bundle import write_csv_bundle
from ecrf.exports.privacy import is_free_text
from ecrf.exports.stream import iter_values
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.loader import current_study
from ecrf.records.models import Site
from forms.language import DataType

#: How a statistician is told to load the files (README.txt): only empty cells are missing.
RECIPE = {"keep_default_na": False, "na_values": [""]}
KEYS = [
    "STUDYID",
    "SITEID",
    "SUBJID",
    "VISIT",
    "VISITREP",
    "VISITDAT",
    "FORM",
    "FORMSTAT",
    "DEFVER",
]
UNIQUE = ["SUBJID", "VISIT", "VISITREP"]


class Bundle:
    """An extracted zip: its files by name, read as text or as data frames."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as archive:
            self.files = {name.rsplit("/", 1)[1]: archive.read(name) for name in archive.namelist()}
            self.folders = {name.rsplit("/", 1)[0] for name in archive.namelist()}
        self.manifest = json.loads(self.files["manifest.json"])
        # Metadata, not data: every cell as text, an empty one as "" (not NaN).
        self.dictionary = self.frame("dictionary.csv", dtype=str, keep_default_na=False)

    def frame(self, name: str, **options) -> pd.DataFrame:
        return pd.read_csv(io.BytesIO(self.files[name]), **(options or RECIPE))

    def rows(self, name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.files[name].decode("utf-8"))))

    def header(self, name: str) -> list[str]:
        return next(csv.reader(io.StringIO(self.files[name].decode("utf-8"))))

    @property
    def tables(self) -> list[str]:
        return [
            f["name"]
            for f in self.manifest["files"]
            if f["rows"] is not None and f["name"] != "long.csv"
        ]


@pytest.fixture(scope="module")
def full(seeded, tmp_path_factory) -> Bundle:
    """The operator's bundle of every site (free text included)."""
    with seeded.app.app_context():
        calls: list[tuple[int, int]] = []
        path = write_csv_bundle(
            current_study(),
            tmp_path_factory.mktemp("full"),
            site_ids=None,
            actor=None,
            progress=lambda done, total: calls.append((done, total)),
        )
    bundle = Bundle(path)
    bundle.progress = calls
    return bundle


@pytest.fixture(scope="module")
def sponsor_bundle(seeded, tmp_path_factory) -> Bundle:
    with seeded.app.app_context():
        sponsor = auth_services.get_user("sponsor")
        return Bundle(
            write_csv_bundle(
                current_study(), tmp_path_factory.mktemp("sp"), site_ids=None, actor=sponsor
            )
        )


def item_types(bundle: Bundle) -> dict[tuple[str, str], str]:
    values = bundle.dictionary[bundle.dictionary.ROLE == "value"]
    return {(r.FILE, r.COLUMN): r.TYPE for r in values.itertuples()}


def test_files_load_with_pandas_and_numeric_items_stay_numeric(full):
    types = item_types(full)
    numeric_seen = 0
    for name in full.tables:
        for options in (RECIPE, {}):  # the README's recipe, and pandas' defaults
            frame = full.frame(name, **options)
            if frame.empty:  # no row to type: pandas reads every column of it as text
                continue
            for column in frame.columns:
                if types.get((name, column)) in ("integer", "decimal"):
                    assert pd.api.types.is_numeric_dtype(frame[column]), (name, column)
                    numeric_seen += frame[column].notna().sum()
    assert numeric_seen > 100
    dm = full.frame("DM.csv")
    assert pd.api.types.is_integer_dtype(dm["AGE"].dropna().astype("Int64"))


def test_keys_are_unique_in_every_file(full):
    for name in full.tables:
        frame = full.frame(name)
        extra = ["GROUP", "REPEAT"] if "REPEAT" in frame.columns else []
        assert list(frame.columns[: len(KEYS) + len(extra)]) == KEYS + extra
        assert not frame.duplicated(UNIQUE + extra[1:]).any(), name
    assert {"DM.csv", "AE.csv", "PETIAH.csv", "PETIAH_IDX.csv", "MH_MH.csv"} <= set(full.tables)


def test_every_stored_value_appears_once_in_the_long_file(seeded, full):
    with seeded.app.app_context():
        stored = Counter(
            (
                r.subject,
                r.visit_oid,
                str(r.visit_repeat),
                r.form_oid,
                r.group_oid,
                str(r.repeat_key),
                r.item_oid,
                r.value or "",
                r.missing_code or "",
                "Y" if r.derived else "N",
            )
            for r in iter_values()
        )
    long = Counter(
        (
            r["SUBJID"],
            r["VISIT"],
            r["VISITREP"],
            r["FORM"],
            r["GROUP"],
            r["REPEAT"],
            r["ITEM"],
            r["VALUE"],
            r["MISSING"],
            r["DERIVED"],
        )
        for r in full.rows("long.csv")
    )
    assert long == stored
    assert max(long.values()) == 1 and len(long) > 1000


def test_wide_files_hold_the_same_values_as_the_long_file(full):
    types = item_types(full)
    wide = set()
    for name in full.tables:
        for row in full.rows(name):
            for column, cell in row.items():
                if (name, column) in types and cell:
                    wide.add((row["SUBJID"], row["VISIT"], row["FORM"], column, cell))
    long = {
        (r["SUBJID"], r["VISIT"], r["FORM"], r["ITEM"], r["VALUE"])
        for r in full.rows("long.csv")
        if r["VALUE"]
    }
    assert wide == long


def test_missing_codes_sit_in_the_companion_column(seeded, full):
    coded = [r for r in full.rows("long.csv") if r["MISSING"]]
    values = full.dictionary[full.dictionary.ROLE == "value"]
    files = {(r.FORM, r.GROUP, r.ITEM): r.FILE for r in values.itertuples()}
    assert coded, "the synthetic patients have missing-data codes"
    for record in coded[:20]:
        name = files[(record["FORM"], record["GROUP"], record["ITEM"])]
        frame = full.frame(name)
        match = frame[frame.SUBJID.eq(record["SUBJID"]) & frame.VISIT.eq(record["VISIT"])]
        if "REPEAT" in frame.columns:
            match = match[match.REPEAT.eq(int(record["REPEAT"]))]
        assert len(match) == 1
        assert pd.isna(match.iloc[0][record["ITEM"]])
        assert match.iloc[0][record["ITEM"] + "_MISS"] == record["MISSING"]


def test_the_dictionary_covers_every_column_and_nothing_else(full):
    described = {(r.FILE, r.COLUMN) for r in full.dictionary.itertuples() if r.WITHHELD == "N"}
    present = {
        (name, column) for name in [*full.tables, "long.csv"] for column in full.header(name)
    }
    assert described == present
    assert not (full.dictionary.WITHHELD == "Y").any()
    ae = full.dictionary[(full.dictionary.FILE == "AE.csv") & (full.dictionary.ROLE == "value")]
    grade = ae[ae.COLUMN == "AETOXGR"].iloc[0] if "AETOXGR" in set(ae.COLUMN) else ae.iloc[0]
    assert grade.FORM == "AE" and grade.GROUP == "AE" and grade.LABEL
    yes_no = full.dictionary[full.dictionary.TYPE == "yes_no"].iloc[0]
    assert yes_no.CODELIST == "NY" and "Y=Yes" in yes_no.DECODES
    ranged = full.dictionary[full.dictionary.HARD_LOW != ""]
    assert len(ranged) > 10
    assert (full.dictionary[full.dictionary.SDTM != ""].SDTM.str.contains(r"\.")).all()


def test_derived_values_are_included_and_flagged(full):
    origin = {
        (r.FILE, r.COLUMN): r.ORIGIN for r in full.dictionary.itertuples() if r.ROLE == "value"
    }
    assert origin[("DM.csv", "AGE")] == "derived"
    assert origin[("VS.csv", "BMI")] == "derived"
    assert "entered" in set(origin.values())
    assert full.frame("VS.csv")["BMI"].notna().any()
    ages = [r for r in full.rows("long.csv") if r["ITEM"] == "AGE" and r["FORM"] == "DM"]
    assert ages and all(r["DERIVED"] == "Y" for r in ages)
    assert any(r["DERIVED"] == "N" for r in full.rows("long.csv"))


def test_partial_dates_are_kept_as_entered(seeded, full):
    with seeded.app.app_context():
        partial = [
            (form.oid, item.oid)
            for form in current_study().study.forms
            for _, item in form.items()
            if item.type is DataType.PARTIAL_DATE
        ]
    kept = [
        r["VALUE"]
        for r in full.rows("long.csv")
        if (r["FORM"], r["ITEM"]) in partial and r["VALUE"]
    ]
    assert kept and any(len(value) < 10 for value in kept), kept
    for name in full.tables:
        frame = full.frame(name, dtype=str, **RECIPE)
        for form_oid, item_oid in partial:
            if item_oid in frame.columns and name.startswith(form_oid):
                cells = set(frame[item_oid].dropna())
                assert cells <= set(kept)


def test_manifest_checksums_and_row_counts_match(seeded, full):
    files = {f["name"]: f for f in full.manifest["files"]}
    assert set(files) | {"manifest.json"} == set(full.files)
    for name, entry in files.items():
        assert hashlib.sha256(full.files[name]).hexdigest() == entry["sha256"], name
        assert len(full.files[name]) == entry["bytes"]
        if entry["rows"] is not None:
            assert len(full.rows(name)) == entry["rows"], name
    assert full.manifest["site_scope"] == "all"
    assert full.manifest["free_text_withheld"] is False
    assert full.manifest["study"] == "IAHPRRT"
    with seeded.app.app_context():
        assert full.manifest["definition_version"] == current_study().version
    checkpoint = full.manifest["audit_checkpoint"]
    assert checkpoint["seq"] > 0 and len(checkpoint["hash"]) == 64
    assert full.folders == {full.path.stem}
    readme = full.files["README.txt"].decode()
    assert "ITEM_MISS" in readme and "partial dates are kept" in readme


def test_progress_is_reported_up_to_the_total(full):
    assert len(full.progress) > 2
    done, total = full.progress[-1]
    rows = {
        (r["SUBJID"], r["VISIT"], r["VISITREP"], r["FORM"], r["GROUP"], r["REPEAT"])
        for r in full.rows("long.csv")
    }
    assert done == total == len(rows)
    assert [d for d, _ in full.progress] == sorted(d for d, _ in full.progress)


def test_the_sponsor_bundle_has_no_free_text_column(seeded, full, sponsor_bundle):
    with seeded.app.app_context():
        free = {
            (form.oid, item.oid)
            for form in current_study().study.forms
            for _, item in form.items()
            if is_free_text(item)
        }
    free_items = {item for _, item in free}
    # The operator's bundle has free text with values in it: the withholding removes something.
    assert any((r["FORM"], r["ITEM"]) in free for r in full.rows("long.csv"))
    for name in sponsor_bundle.tables:
        form = sponsor_bundle.rows(name)[0]["FORM"] if sponsor_bundle.rows(name) else None
        for column in sponsor_bundle.header(name):
            assert (form, column) not in free, (name, column)
    assert not any((r["FORM"], r["ITEM"]) in free for r in sponsor_bundle.rows("long.csv"))
    withheld = sponsor_bundle.dictionary[sponsor_bundle.dictionary.WITHHELD == "Y"]
    assert {(r.FORM, r.ITEM) for r in withheld.itertuples()} == free
    assert (withheld.FREE_TEXT == "Y").all()
    assert set(withheld.ITEM) <= free_items
    assert sponsor_bundle.manifest["free_text_withheld"] is True
    assert sponsor_bundle.manifest["generated_by"] == "sponsor"


def test_the_site_filter_keeps_only_that_site(seeded, tmp_path):
    with seeded.app.app_context():
        bdx = db.session.scalar(sa.select(Site).where(Site.code == "BDX"))
        bundle = Bundle(write_csv_bundle(current_study(), tmp_path, site_ids=[bdx.id], actor=None))
        at_bdx = sum(1 for r in iter_values([bdx.id]))
    assert bundle.manifest["site_scope"] == ["BDX"]
    long = bundle.rows("long.csv")
    assert len(long) == at_bdx > 0
    for name in [*bundle.tables, "long.csv"]:
        assert {r["SITEID"] for r in bundle.rows(name)} <= {"BDX"}
        assert all(r["SUBJID"].startswith("BDX-") for r in bundle.rows(name))


def test_an_account_without_the_export_right_writes_nothing(seeded, tmp_path):
    with seeded.app.app_context():
        staff = auth_services.get_user("staff.bdx")
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        with pytest.raises(PermissionDenied):
            write_csv_bundle(current_study(), tmp_path / "out", site_ids=None, actor=staff)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    assert not (tmp_path / "out").exists()


def test_each_extract_leaves_one_export_event_and_the_trail_verifies(seeded, tmp_path):
    with seeded.app.app_context():
        datamanager = auth_services.get_user("datamanager")
        before = db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")
        )
        path = write_csv_bundle(current_study(), tmp_path, site_ids=None, actor=datamanager)
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.seq)
        ).all()
        assert len(events) == before + 1
        event = events[-1]
        assert (event.entity, event.entity_id, event.actor) == ("extract", "csv", "datamanager")
        detail = json.loads(event.new)
        assert detail["file"] == path.name and detail["free_text_withheld"] is False
        assert detail["rows"]["long.csv"] > 0
        assert detail["rows"]["long.csv"] == len(list(iter_values()))
        verification = verify_trail()
        assert verification.intact, [str(p) for p in verification.problems]
