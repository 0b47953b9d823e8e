"""The PET pair of the primary endpoint made comparable: what must be alike on the PET-IV
and the PET-IAH (declared as data), the lesions matched across the baseline imaging and
both PETs by identifier AND liver segment, and the IAH/IV gain over the lesions lying in
the arterial territory injected (perfused) apart from the others.

A mismatch is never a silent pair: a lesion whose identifier names another segment, or
that is measured on one PET and not the other, raises a finding and gets no ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from statistics import median
from typing import Any

from forms.iahprrt.common import dec, rounded, rows_of
from forms.language import Check
from forms.rules import near, same
from forms.values import same_id

# --- what the two PETs must share ---------------------------------------------------------

#: Uptake delays (injection to acquisition) of the two PETs may differ by at most this
#: much: 68Ga-DOTA-peptide uptake in tumour still rises over the first hour, so a longer
#: delay alone raises the SUVs (EANM procedure guideline: 60 min, ± 10 min between scans
#: of one patient compared).
UPTAKE_TOLERANCE_MINUTES = 10


@dataclass(frozen=True)
class PairRule:
    """An acquisition item (same OID on both PET forms) that must be the same on the PET-IAH
    as on the PET-IV, or, with ``tolerance``, differ by at most that much.

    ``message`` is the question put to the site; ``{value}``, ``{other}`` (the PET-IV's)
    and, with a tolerance, ``{difference}`` stand for the values.
    """

    item: str
    message: str
    tolerance: int | None = None

    def check(self, reference_form: str) -> Check:
        other = f"{reference_form}.{reference_form}.{self.item}"
        name = f"SAME_{self.item}_AS_PETIV"
        if self.tolerance is None:
            return same(name, self.item, of=other, message=self.message)
        return near(name, self.item, of=other, by=self.tolerance, message=self.message)


#: The tolerances of the pair: SUVs of two scans compare only when the same tracer was
#: imaged on the same scanner, reconstructed and normalised the same way, at about the same
#: uptake time, with the volumes of interest drawn alike by the same reader.
PET_PAIR_RULES: tuple[PairRule, ...] = (
    PairRule(
        "TRACER",
        "The tracer is not the one of the PET-IV: were both PETs made with the same"
        " 68Ga-DOTA-peptide? Please check the tracer of each PET.",
    ),
    PairRule(
        "SCANNER",
        "The scanner ({value}) is not the one of the PET-IV ({other}): were both PETs"
        " acquired on the same scanner? Please check.",
    ),
    PairRule(
        "RECON",
        "The reconstruction is not the one of the PET-IV: were both PETs reconstructed the"
        " same way? Please check the reconstruction of each PET.",
    ),
    PairRule(
        "RECONPAR",
        "The reconstruction parameters ({value}) are not those of the PET-IV ({other}): were"
        " both PETs reconstructed with the same parameters? Please check.",
    ),
    PairRule(
        "SUVNORM",
        "The SUV normalisation is not the one of the PET-IV: were the SUVs of both PETs"
        " normalised the same way? Please check.",
    ),
    PairRule(
        "SEGMETH",
        "The volume of interest for SUVmean is not drawn as on the PET-IV: were the SUVmean"
        " volumes of both PETs drawn the same way? Please check.",
    ),
    PairRule(
        "READER",
        "The reader ({value}) is not the one of the PET-IV ({other}): were both PETs read by"
        " the same physician? Please check.",
    ),
    PairRule(
        "UPTKMIN",
        "The uptake delay ({value} min) is {difference} min away from the one of the PET-IV"
        " ({other} min), more than the 10 min allowed: are the injection and acquisition"
        " times of both PETs right?",
        tolerance=UPTAKE_TOLERANCE_MINUTES,
    ),
)


# --- lesions: identifier and segment --------------------------------------------------------

#: Messages of the lesion matching checks ({lesion}: the identifier; {here}, {there}: the
#: segments or organs; {lesions}: identifiers).
SEGMENT_NOT_AS_BASELINE = (
    "Lesion {lesion} is in segment {here} here but in segment {there} on the baseline"
    " imaging: is it the same lesion? Please check the identifier or the segment."
)
NOT_LIVER_AT_BASELINE = (
    "Lesion {lesion} is a liver lesion here but not at baseline (organ {there}): is it the"
    " same lesion? Please check the identifier."
)
SEGMENT_NOT_AS_PETIV = (
    "Lesion {lesion} is in segment {here} here but in segment {there} on the PET-IV: is it"
    " the same lesion? No IAH/IV ratio is computed until both agree."
)
MISSING_ON_PETIAH = (
    "Lesions measured on the PET-IV are not in this table on the PET-IAH ({lesions}): were"
    " they measured? Please add them, or say why in the comment."
)


def _one(rows: list[dict] | None, id_key: str, lesion: str | None) -> dict | None:
    matches = [row for row in rows_of(rows) if same_id(row.get(id_key), lesion)]
    return matches[0] if len(matches) == 1 else None


#: Couinaud segments as radiologists write them (code list LIVSEG: S1 … S8).
_NUMERALS = dict(
    zip(
        ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"),
        ("I", "II", "III", "IV", "V", "VI", "VII", "VIII"),
        strict=True,
    )
)


def _segment(code: Any) -> str:
    """A liver segment as radiologists write it (S7 → VII)."""
    return _NUMERALS.get(str(code), str(code))


def segment_as_baseline(
    lesion: str | None, segment: str | None, baseline_targets: list[dict] | None
) -> str | None:
    """A PET liver lesion that is also a baseline RECIST target (same identifier) lies in
    the liver segment the baseline gives it."""
    if lesion is None or segment is None:
        return None
    target = _one(baseline_targets, "LESID", lesion)
    if target is None or target.get("ORGAN") is None:
        return None
    if target["ORGAN"] != "LIVER":
        return NOT_LIVER_AT_BASELINE.format(lesion=lesion.strip(), there=target["ORGAN"])
    there = target.get("LIVSEG")
    if there is None or there == segment:
        return None
    return SEGMENT_NOT_AS_BASELINE.format(
        lesion=lesion.strip(), here=_segment(segment), there=_segment(there)
    )


def segment_as_reference(
    lesion: str | None, segment: str | None, reference_rows: list[dict] | None
) -> str | None:
    """A lesion of the PET-IAH lies in the segment of the PET-IV lesion with the same
    identifier (otherwise the two are not paired)."""
    if lesion is None or segment is None:
        return None
    other = _one(reference_rows, "LESID", lesion)
    there = other.get("SEGMENT") if other else None
    if there is None or there == segment:
        return None
    return SEGMENT_NOT_AS_PETIV.format(
        lesion=lesion.strip(), here=_segment(segment), there=_segment(there)
    )


def missing_on_tested(
    id_key: str, tested_rows: list[dict] | None, reference_rows: list[dict] | None
) -> str | None:
    """Every lesion measured on the PET-IV is in the same table of the PET-IAH."""
    if tested_rows is None and reference_rows is None:
        return None
    missing = [
        str(row[id_key]).strip()
        for row in rows_of(reference_rows)
        if row.get(id_key)
        and not any(same_id(t.get(id_key), row[id_key]) for t in rows_of(tested_rows))
    ]
    return MISSING_ON_PETIAH.format(lesions=", ".join(missing)) if missing else None


# --- pairing and the gain -----------------------------------------------------------------


def paired(
    id_key: str,
    place_key: str,
    lesion: str | None,
    place: str | None,
    reference_rows: list[dict] | None,
) -> dict | None:
    """The PET-IV row of the same lesion: the one row with this identifier, provided it
    does not name another place (segment or site); None otherwise."""
    other = _one(reference_rows, id_key, lesion)
    if other is None:
        return None
    there = other.get(place_key)
    if place is not None and there is not None and there != place:
        return None
    return other


def paired_ratio(
    id_key: str,
    place_key: str,
    metric: str,
    lesion: str | None,
    place: str | None,
    value: Decimal | None,
    reference_rows: list[dict] | None,
) -> Decimal | None:
    """IAH/IV ratio of one lesion's ``metric``, paired by identifier and place."""
    other = paired(id_key, place_key, lesion, place, reference_rows)
    if other is None or value is None or not other.get(metric):
        return None
    return rounded(dec(value) / dec(other[metric]), "0.01")


def paired_tl_ratio(
    id_key: str,
    place_key: str,
    max_key: str,
    lesion: str | None,
    place: str | None,
    suvmax: Decimal | None,
    liver_suvmean: Decimal | None,
    reference_rows: list[dict] | None,
    reference_liver_suvmean: Decimal | None,
) -> Decimal | None:
    """IAH/IV ratio of the tumour-to-liver ratio (each: lesion SUVmax / healthy-liver
    SUVmean of its own scan), from the raw values, unrounded until the end."""
    other = paired(id_key, place_key, lesion, place, reference_rows)
    if other is None or suvmax is None or not other.get(max_key):
        return None
    if not liver_suvmean or not reference_liver_suvmean:
        return None
    tested = dec(suvmax) / dec(liver_suvmean)
    reference = dec(other[max_key]) / dec(reference_liver_suvmean)
    return rounded(tested / reference, "0.01")


def _gains(
    perfused: str, tested_rows: list[dict] | None, reference_rows: list[dict] | None
) -> list[Decimal]:
    """SUVmax IAH / IV of the index lesions whose perfusion answer is ``perfused``."""
    gains = []
    for row in rows_of(tested_rows):
        if row.get("PERF") != perfused:
            continue
        other = paired("LESID", "SEGMENT", row.get("LESID"), row.get("SEGMENT"), reference_rows)
        if other and row.get("SUVMAX") is not None and other.get("SUVMAX"):
            gains.append(dec(row["SUVMAX"]) / dec(other["SUVMAX"]))
    return gains


def count_paired(
    perfused: str, tested_rows: list[dict] | None, reference_rows: list[dict] | None
) -> int | None:
    """How many index lesions, perfused ("Y") or not ("N"), have an SUVmax on both PETs."""
    if not tested_rows:
        return None
    return len(_gains(perfused, tested_rows, reference_rows))


def median_gain(
    perfused: str, tested_rows: list[dict] | None, reference_rows: list[dict] | None
) -> Decimal | None:
    """Median SUVmax IAH / IV over the paired index lesions, perfused ("Y") or not ("N")
    (ratios unrounded, the median to 2 decimals)."""
    gains = _gains(perfused, tested_rows, reference_rows)
    return rounded(median(gains), "0.01") if gains else None
