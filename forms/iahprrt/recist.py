"""RECIST 1.1 (Eisenhauer 2009) as pure functions over lesion rows.

Rows are dicts as the engine hands them over: baseline target rows carry LESID, ORGAN
and DIAM (longest diameter, or short axis for a lymph node, mm); follow-up target rows
carry LESID and DIAM (0 when the lesion disappeared, 5 when too small to measure);
non-target rows carry NTLID and, at follow-up, NTLSTAT.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from forms.iahprrt.common import dec, rounded, rows_of
from forms.values import same_id

NODE = "NODE"
MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
MIN_LONGEST_DIAMETER = Decimal(10)  # mm, CT/MRI with slices ≤ 5 mm
MIN_NODE_SHORT_AXIS = Decimal(15)  # mm
NORMAL_NODE = Decimal(10)  # mm: a node below this short axis is normal

#: Baseline imaging lies at most 4 weeks before treatment (RECIST 1.1). The protocol gives
#: no window of its own, so 28 days before the first radiopharmaceutical of the trial: the
#: 68Ga-DOTA-peptide of the PET-IV (the same day counts as before it).
BASELINE_IMAGING_DAYS = 28
FIRST_RADIOPHARMACEUTICAL = "PETIV.PETIV.PETDAT"


def baseline_sum(rows: list[dict[str, Any]] | None) -> Decimal | None:
    """Sum of diameters of the baseline target lesions (None while one is unmeasured)."""
    rows = rows_of(rows)
    if not rows or any(row.get("DIAM") is None for row in rows):
        return None
    return sum((dec(row["DIAM"]) for row in rows), Decimal(0))


def _follow_up_rows(
    baseline_rows: list[dict] | None, rows: list[dict] | None
) -> list[tuple[dict, dict | None]]:
    """Each baseline target lesion with its follow-up measurement row (or None)."""
    pairs = []
    for base in rows_of(baseline_rows):
        matches = [row for row in rows_of(rows) if same_id(row.get("LESID"), base.get("LESID"))]
        pairs.append((base, matches[0] if len(matches) == 1 else None))
    return pairs


def follow_up_sum(baseline_rows: list[dict] | None, rows: list[dict] | None) -> Decimal | None:
    """Sum of diameters at a follow-up: every baseline target must be measured again."""
    pairs = _follow_up_rows(baseline_rows, rows)
    if not pairs or any(row is None or row.get("DIAM") is None for _, row in pairs):
        return None
    return sum((dec(row["DIAM"]) for _, row in pairs), Decimal(0))


def nadir(*sums: Decimal | None) -> Decimal | None:
    """Smallest sum on study so far, baseline included (sums that are None are skipped)."""
    present = [dec(s) for s in sums if s is not None]
    return min(present) if present else None


def percent_change(current: Decimal | None, reference: Decimal | None) -> Decimal | None:
    """(current − reference) / reference in %, 1 decimal (None when the reference is 0)."""
    if current is None or not reference:
        return None
    return rounded((dec(current) - dec(reference)) * 100 / dec(reference))


def target_response(
    baseline_rows: list[dict] | None, rows: list[dict] | None, nadir_sum: Decimal | None
) -> str | None:
    """CR / PR / SD / PD / NE for the target lesions.

    CR: every non-nodal target 0 mm and every nodal target < 10 mm short axis.
    PD: sum ≥ 120 % of the nadir (smallest earlier sum, baseline included) and ≥ 5 mm
    above it. PR: sum ≥ 30 % below baseline. SD: neither. NE: a target not measured.
    """
    base = baseline_sum(baseline_rows)
    if base is None:
        return None
    pairs = _follow_up_rows(baseline_rows, rows)
    if any(row is None or row.get("DIAM") is None for _, row in pairs):
        return "NE"
    current = sum((dec(row["DIAM"]) for _, row in pairs), Decimal(0))
    if all(
        dec(row["DIAM"]) < NORMAL_NODE if b.get("ORGAN") == NODE else dec(row["DIAM"]) == 0
        for b, row in pairs
    ):
        return "CR"
    reference = base if nadir_sum is None else dec(nadir_sum)
    if current >= reference * Decimal("1.2") and current - reference >= 5:
        return "PD"
    if current <= base * Decimal("0.7"):
        return "PR"
    return "SD"


def non_target_response(baseline_rows: list[dict] | None, rows: list[dict] | None) -> str | None:
    """CR / NON-CR/NON-PD / PD / NE for the non-target lesions; NA when there were none."""
    baseline_rows = rows_of(baseline_rows)
    if not baseline_rows:
        return "NA"
    statuses = []
    for base in baseline_rows:
        matches = [r for r in rows_of(rows) if same_id(r.get("NTLID"), base.get("NTLID"))]
        statuses.append(matches[0].get("NTLSTAT") if len(matches) == 1 else None)
    if "PD" in statuses:
        return "PD"
    if any(status in (None, "NE") for status in statuses):
        return "NE"
    if all(status == "ABSENT" for status in statuses):
        return "CR"
    return "NON-CR/NON-PD"


def overall_response(
    target: str | None, non_target: str | None, new_lesion: str | None
) -> str | None:
    """Time-point response for patients with target disease (RECIST 1.1 table 1).

    A new lesion counts when unequivocal ("Y"); an equivocal one ("EQ") does not (yet).
    None (not derived yet) while the new-lesion question or the non-target assessment is
    missing, unless progression is already certain.
    """
    if target is None:
        return None
    if target == "PD" or non_target == "PD" or new_lesion == "Y":
        return "PD"
    if new_lesion is None or non_target is None:
        return None
    if target == "NE":
        return "NE"
    if target == "CR":
        return "CR" if non_target in ("CR", "NA") else "PR"
    return target  # PR or SD, whatever the non-PD non-target status


def target_problem(organ: str | None, diameter: Decimal | None) -> str | None:
    """Why a lesion cannot be a RECIST target lesion at baseline, or None."""
    if organ is None or diameter is None:
        return None
    if organ == NODE and dec(diameter) < MIN_NODE_SHORT_AXIS:
        return (
            f"A lymph node is a target lesion only with a short axis ≥ 15 mm ({diameter} mm):"
            " record it as non-target (10–15 mm) or not at all (< 10 mm)."
        )
    if organ != NODE and dec(diameter) < MIN_LONGEST_DIAMETER:
        return (
            f"A target lesion measures ≥ 10 mm in longest diameter ({diameter} mm):"
            " record it as non-target."
        )
    return None


def too_many_in_organ(organ: str | None, rows: list[dict] | None) -> str | None:
    """RECIST 1.1: at most 2 target lesions per organ."""
    if organ is None:
        return None
    count = sum(1 for row in rows_of(rows) if row.get("ORGAN") == organ)
    if count > MAX_TARGETS_PER_ORGAN:
        return f"{count} target lesions in one organ: RECIST 1.1 allows at most 2 per organ."
    return None


# --- best overall response --------------------------------------------------------------------

#: RECIST 1.1, non-randomised trials: a CR or PR is the best response only once a later
#: assessment, at least 4 weeks after it, confirms it.
CONFIRMATION_DAYS = 28
#: RECIST 1.1 leaves the minimum duration of stable disease to the protocol ("in general
#: not less than 6–8 weeks"); the IAH-PRRT protocol states none, so 6 weeks, counted from
#: the baseline imaging (the later of its CT and MRI).
SD_MIN_DAYS = 42

#: Why the best overall response is what it is (one sentence per case, for the form and
#: the casebook; {first}/{second}: visits, {days}: days between the dates concerned).
BOR_CONFIRMED = (
    "{response} at {first} ({first_date}) confirmed at {second} ({second_date}), {days} days"
    " later (at least 28 required)."
)
BOR_SD = (
    "Stable disease at {first} ({first_date}), {days} days after the baseline imaging"
    " (at least 42 required)."
)
BOR_UNCONFIRMED = (
    "{response} at {first} ({first_date}) not confirmed by a later assessment at least 28"
    " days apart: counts as stable disease, {days} days after the baseline imaging (at least"
    " 42 required)."
)
BOR_PD = (
    "Progression at {first} ({first_date}), with no stable disease at least 42 days after"
    " the baseline imaging before it."
)
BOR_NE = "No assessment evaluable at least 42 days after the baseline imaging, and no progression."

_NAMES = {"CR": "Complete response", "PR": "Partial response"}


def _best(
    baseline: Any, visits: tuple[str, ...], values: tuple[Any, ...]
) -> tuple[str, str] | None:
    """The best overall response and why, from the baseline imaging date and the
    (date, time-point response) of each response visit (``values``, pairs in the order of
    ``visits``); None while no time-point response is derived yet."""
    done = sorted(
        (
            (values[2 * i], visit, values[2 * i + 1])
            for i, visit in enumerate(visits)
            if values[2 * i] is not None and values[2 * i + 1] is not None
        ),
        key=lambda a: a[0],
    )
    if not done:
        return None
    # Nothing after the first progression counts (RECIST 1.1: best response recorded from
    # the start of treatment until disease progression).
    first_pd = next((a for a in done if a[2] == "PD"), None)
    before = done[: done.index(first_pd)] if first_pd else done
    for level, accepted in (("CR", ("CR",)), ("PR", ("CR", "PR"))):
        for i, (day1, visit1, resp1) in enumerate(before):
            if resp1 not in accepted:
                continue
            for day2, visit2, resp2 in before[i + 1 :]:
                if resp2 in accepted and (day2 - day1).days >= CONFIRMATION_DAYS:
                    return level, BOR_CONFIRMED.format(
                        response=_NAMES[level],
                        first=visit1,
                        first_date=day1.isoformat(),
                        second=visit2,
                        second_date=day2.isoformat(),
                        days=(day2 - day1).days,
                    )
    if baseline is not None:
        for day, visit, resp in before:
            days = (day - baseline).days
            if resp in ("CR", "PR", "SD") and days >= SD_MIN_DAYS:
                text = BOR_SD if resp == "SD" else BOR_UNCONFIRMED
                return "SD", text.format(
                    response=_NAMES.get(resp, ""),
                    first=visit,
                    first_date=day.isoformat(),
                    days=days,
                )
    elif any(resp in ("CR", "PR", "SD") for _, _, resp in before):
        return None  # stable disease cannot be judged without the baseline date
    if first_pd is not None:
        return "PD", BOR_PD.format(first=first_pd[1], first_date=first_pd[0].isoformat())
    return "NE", BOR_NE


def _baseline_date(ct: Any, mri: Any) -> Any:
    present = [d for d in (ct, mri) if d is not None]
    return max(present) if present else None


def best_overall_response(visits: tuple[str, ...], ct: Any, mri: Any, *values: Any) -> str | None:
    """Best overall response with confirmation (RECIST 1.1, non-randomised trials).

    ``visits`` name the response visits in order; ``values`` are each one's assessment date
    and time-point response. CR (PR): two CR (CR or PR) assessments at least 28 days
    apart, before any progression; SD: a CR, PR or SD at least 42 days after the baseline
    imaging (the later of CT and MRI); PD: progression with neither; NE: none of these.
    """
    best = _best(_baseline_date(ct, mri), visits, values)
    return best[0] if best else None


def best_response_basis(visits: tuple[str, ...], ct: Any, mri: Any, *values: Any) -> str | None:
    """The sentence that says which assessments give the best overall response."""
    best = _best(_baseline_date(ct, mri), visits, values)
    return best[1] if best else None
