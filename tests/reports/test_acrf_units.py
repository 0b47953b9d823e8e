"""The blank annotated CRF lists the units of an item with several units: which is the
standard one, how the others convert to it, and each unit's ranges."""

from __future__ import annotations

from ecrf.records.loader import import_study, load_study
from ecrf.reporting.acrf import acrf_data


def test_the_acrf_lists_each_unit_with_its_conversion_and_ranges():
    from forms.iahprrt.reports import ACRF

    study = load_study(import_study("forms.iahprrt:STUDY"))  # no application needed
    acrf = acrf_data(study, ACRF.check_words)
    items = {
        (f["oid"], i["oid"]): i
        for part in acrf["parts"]
        for f in part["forms"]
        for g in f["groups"]
        for i in g["items"]
    }
    creat = items[("LBCHEM", "CREAT")]
    assert creat["units"] == "µmol/L or mg/dL"
    assert creat["measured_in"] == [
        {
            "unit": "µmol/L (umol/L): the standard unit, read by derivations and checks",
            "ranges": [
                "Refused outside 10 to 2000 µmol/L",
                "Warning outside 45 to 110 µmol/L",
            ],
        },
        {
            "unit": "mg/dL (mg/dL): × 88.42 gives µmol/L",
            "ranges": ["Refused outside 0.1 to 23 mg/dL", "Warning outside 0.5 to 1.25 mg/dL"],
        },
    ]
    uln = items[("LBCHEM", "CREATULN")]["measured_in"]
    assert uln[0] == {"unit": "In the unit chosen for creatinine (CREAT)", "ranges": []}
    counts = items[("LBHEM", "NEUT")]["measured_in"]
    assert counts[1]["unit"] == "G/L (10*9/L): × 1000 gives /mm3"
    assert items[("LBCHEM", "ALT")]["measured_in"] == []  # one unit: as before
