"""Absorbed doses normalised to the activity administered (Gy/GBq), the IAH/IV ratio on
those normalised doses, and the cumulative kidney and bone-marrow doses.

Each cycle's absolute dose (Gy) depends on the activity given, which differs from cycle to
cycle (reduced activities, residuals): the IAH route is compared with the IV route per GBq,
never on absolute doses. The IV cycles' activities are those of the screening form PRTX
(one row per cycle), the IAH cycle's the administered activity derived on LUADM.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from forms.iahprrt.common import dec, rounded, rows_of

#: Decimal places of a dose per GBq: bone marrow receives some 0.03–0.05 Gy/GBq.
PER_GBQ_PLACES = "0.001"
MBQ_PER_GBQ = 1000

#: The organs whose cumulative dose limits PRRT (code list DOSORG): the kidneys (both, else
#: the more exposed of the two) and the red marrow.
KIDNEYS, LEFT_KIDNEY, RIGHT_KIDNEY, MARROW = "KIDNEYS", "KIDL", "KIDR", "MARROW"


def per_gbq(dose: Decimal | None, activity_mbq: Decimal | None) -> Decimal | None:
    """An absorbed dose per GBq administered: dose (Gy) / activity (GBq), 3 decimals."""
    if dose is None or not activity_mbq:
        return None
    return rounded(dec(dose) * MBQ_PER_GBQ / dec(activity_mbq), PER_GBQ_PLACES)


def _cycle_activity(cycle: int, cycles: list[dict] | None) -> Decimal | None:
    """The activity (MBq) of IV cycle ``cycle``, when exactly one row gives it."""
    rows = [row for row in rows_of(cycles) if row.get("CYCLE") == cycle]
    return dec(rows[0].get("EXDOSE")) if len(rows) == 1 else None


def _iv_per_gbq(doses: tuple[Any, ...], cycles: list[dict] | None) -> list[Decimal]:
    """Unrounded Gy/GBq of each IV cycle with both its dose and its activity."""
    result = []
    for number, dose in enumerate(doses, start=1):
        activity = _cycle_activity(number, cycles)
        if dose is not None and activity:
            result.append(dec(dose) * MBQ_PER_GBQ / activity)
    return result


def mean_iv_per_gbq(cycles: list[dict] | None, *doses: Decimal | None) -> Decimal | None:
    """Mean over the IV cycles of dose / activity of that cycle (Gy/GBq), over the cycles
    with both known."""
    values = _iv_per_gbq(doses, cycles)
    return rounded(sum(values) / len(values), PER_GBQ_PLACES) if values else None


def ratio_per_gbq(
    iah_dose: Decimal | None,
    iah_activity: Decimal | None,
    cycles: list[dict] | None,
    *doses: Decimal | None,
) -> Decimal | None:
    """IAH dose per GBq / mean IV dose per GBq, from the unrounded values (2 decimals)."""
    values = _iv_per_gbq(doses, cycles)
    if iah_dose is None or not iah_activity or not values or not sum(values):
        return None
    iah = dec(iah_dose) * MBQ_PER_GBQ / dec(iah_activity)
    return rounded(iah * len(values) / sum(values), "0.01")


def cumulative(*doses: Decimal | None) -> Decimal | None:
    """Sum of the doses given; None until every one is known."""
    if not doses or any(d is None for d in doses):
        return None
    return rounded(sum(dec(d) for d in doses), "0.01")


def _organ_total(row: dict, with_iah: bool) -> Decimal | None:
    doses = [row.get(f"ODIV{n}") for n in range(1, 5)]
    if with_iah:
        doses.append(row.get("ODIAH"))
    return cumulative(*doses)


def organ_cumulative(organ: str, with_iah: str, rows: list[dict] | None) -> Decimal | None:
    """Cumulative dose of ``organ`` over the 4 IV cycles (and the IAH cycle when
    ``with_iah`` is "Y"). The kidneys: the row for both, else the higher of the left and
    right kidney (the one that limits)."""
    by_organ: dict[str, list[dict]] = {}
    for row in rows_of(rows):
        by_organ.setdefault(row.get("ORGAN"), []).append(row)
    iah = with_iah == "Y"
    if organ == KIDNEYS and KIDNEYS not in by_organ:
        sides = [by_organ.get(side) for side in (LEFT_KIDNEY, RIGHT_KIDNEY)]
        if any(side is None or len(side) != 1 for side in sides):
            return None
        totals = [_organ_total(side[0], iah) for side in sides if side]
        return None if any(t is None for t in totals) else max(totals)
    found = by_organ.get(organ, [])
    return _organ_total(found[0], iah) if len(found) == 1 else None
