"""Values entered in one of several units, in the extracts: SDTM gives the original value
and unit (LBORRES/LBORRESU) and the standard ones (LBSTRESN/LBSTRESU); the CSV bundle gives
the unit entered and the value in the item's standard unit beside each such value."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from ecrf.exports.csv_bundle import write_csv_bundle
from ecrf.exports.sdtm import write_sdtm
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Site
from ecrf.study import subjects
from tests.exports.test_csv_bundle import Bundle
from tests.iahprrt_patient import save_screening

CONSENT = date(2025, 1, 6)


@pytest.fixture(scope="module")
def patient(seeded) -> str:
    """A patient of NTE whose laboratory reports creatinine in mg/dL, counts in G/L and
    haemoglobin in g/L."""
    with seeded.app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.code == "NTE"))
        subject = subjects.register_subject(site, actor=None)
        db.session.commit()
        labs = {
            "LBCHEM": {"CREAT": "1.13", "CREAT.unit": "mg/dL", "CREATULN": "1.20"},
            "LBHEM": {
                "HGB": "125",
                "HGB.unit": "g/L",
                "HGBLLN": "120",
                "PLAT": "180",
                "PLAT.unit": "10*9/L",
                "PLATLLN": "150",
            },
        }
        forms = ("IC", "DM", "VS", "LBHEM", "LBCHEM")
        save_screening(current_study(), subject, None, CONSENT, labs, forms=forms)
        return subject.identifier


def lb_rows(folder: Path, identifier: str) -> dict[str, dict[str, str]]:
    with (folder / "csv" / "lb.csv").open(newline="", encoding="utf-8") as f:
        return {r["LBTESTCD"]: r for r in csv.DictReader(f) if r["USUBJID"].endswith(identifier)}


def test_sdtm_gives_the_original_and_the_standard_value_and_unit(seeded, patient, tmp_path):
    with seeded.app.app_context():
        write_sdtm(current_study(), tmp_path, site_ids=None, actor=None)
    rows = lb_rows(tmp_path, patient)
    creat = rows["CREAT"]
    assert (creat["LBORRES"], creat["LBORRESU"]) == ("1.13", "mg/dL")
    assert (creat["LBSTRESN"], creat["LBSTRESU"]) == ("99.9146", "umol/L")
    assert (creat["LBORNRHI"], creat["LBNRIND"]) == ("1.20", "NORMAL")
    hgb = rows["HGB"]
    assert (hgb["LBORRES"], hgb["LBORRESU"], hgb["LBORNRLO"]) == ("125", "g/L", "120")
    assert (Decimal(hgb["LBSTRESN"]), hgb["LBSTRESU"]) == (125, "g/L")
    plat = rows["PLAT"]
    assert (plat["LBORRES"], plat["LBORRESU"]) == ("180", "10^9/L")
    assert (Decimal(plat["LBSTRESN"]), plat["LBSTRESU"]) == (180, "10^9/L")
    assert plat["LBNRIND"] == "NORMAL"


def test_the_csv_bundle_gives_the_unit_entered_and_the_standard_value(seeded, patient, tmp_path):
    with seeded.app.app_context():
        bundle = Bundle(write_csv_bundle(current_study(), tmp_path, site_ids=None, actor=None))
    chem = next(r for r in bundle.rows("LBCHEM.csv") if r["SUBJID"] == patient)
    assert (chem["CREAT"], chem["CREAT_UNIT"], chem["CREAT_STD"]) == ("1.13", "mg/dL", "99.9146")
    assert (chem["CREATULN"], chem["CREATULN_UNIT"], chem["CREATULN_STD"]) == (
        "1.20",
        "mg/dL",
        "106.104",
    )
    hem = next(r for r in bundle.rows("LBHEM.csv") if r["SUBJID"] == patient)
    assert (hem["HGB"], hem["HGB_UNIT"], hem["HGB_STD"]) == ("125", "g/L", "12.5")
    assert (hem["PLAT"], hem["PLAT_UNIT"], hem["PLAT_STD"]) == ("180", "10*9/L", "180000")
    header = bundle.header("LBHEM.csv")
    assert header[header.index("HGB") : header.index("HGB") + 4] == [
        "HGB",
        "HGB_MISS",
        "HGB_UNIT",
        "HGB_STD",
    ]
    long = [r for r in bundle.rows("long.csv") if r["SUBJID"] == patient]
    assert {(r["ITEM"], r["VALUE"], r["UNIT"]) for r in long if r["ITEM"] == "CREAT"} == {
        ("CREAT", "1.13", "mg/dL")
    }
    described = bundle.dictionary
    std = described[(described.FILE == "LBCHEM.csv") & (described.COLUMN == "CREAT_STD")].iloc[0]
    assert std.UNITS == "umol/L" and (std.HARD_LOW, std.HARD_HIGH) == ("10", "2000")
    unit = described[(described.FILE == "LBCHEM.csv") & (described.COLUMN == "CREAT_UNIT")].iloc[0]
    assert unit.DECODES == "umol/L=µmol/L | mg/dL=mg/dL"
