"""The benchmark's table: each figure beside its floor, their ratio, the goal of issue #13
and whether the figure meets it."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.audit_verify import VerifyFigures
from benchmarks.casebooks import CasebookFigures
from benchmarks.pages import Page
from benchmarks.saves import Saved
from benchmarks.web import Timings

MIB = 2**20
#: Pages whose time the issue bounds (at 10,000 subjects); the others: statements only.
TIMED_PAGES = ("subject matrix", "subject page")
PAGE_LIMIT = 0.150
#: Save goals: (median limit in seconds or None, times the floor or None), by form.
SAVE_GOALS = {"LBHEM": (0.010, 2.0), "LBCHEM": (0.025, None), "PETIV": (None, None)}
SAVE_SQL = 20


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f} ms"


def ratio(figure: float, floor: float) -> str:
    return f"{figure / floor:.1f}×" if floor > 0 else "—"


def verdict(*checks: bool) -> str:
    return "met" if all(checks) else "missed"


@dataclass(frozen=True)
class Row:
    section: str
    size: str
    figure: str
    floor: str
    ratio: str
    goal: str
    verdict: str


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    #: The statements of each page at the smallest size: the count must stay constant in N.
    first_sql: dict[str, int] = field(default_factory=dict)
    #: The peak memory of each extract at each size: it must stay flat.
    export_peaks: dict[str, dict[int, int]] = field(default_factory=dict)

    def saves(self, size: int, measured: list[Saved], floor: Timings) -> None:
        for saved in measured:
            limit, times = SAVE_GOALS.get(saved.form, (None, None))
            median = saved.timings.median
            goal = [f"≤ {SAVE_SQL} SQL"]
            checks = [saved.timings.sql <= SAVE_SQL]
            if limit is not None:
                goal.append(f"< {ms(limit)}")
                checks.append(median < limit)
            if times is not None:
                goal.append(f"≤ {times:g}× floor")
                checks.append(median <= times * floor.median)
            self.rows.append(
                Row(
                    f"save {saved.form} ({saved.label}), {saved.place}",
                    str(size),
                    f"median {ms(median)}, p95 {ms(saved.timings.p95)}, {saved.timings.sql} SQL",
                    f"median {ms(floor.median)}, p95 {ms(floor.p95)}, {floor.sql} SQL",
                    ratio(median, floor.median),
                    ", ".join(goal),
                    verdict(*checks),
                )
            )

    def pages(self, size: int, measured: list[Page], floor: Timings) -> None:
        for page in measured:
            first = self.first_sql.setdefault(page.name, page.timings.sql)
            goal = ["SQL constant in N"]
            checks = [page.timings.sql <= first]
            if page.name.startswith(TIMED_PAGES):
                goal.insert(0, f"< {ms(PAGE_LIMIT)} at 10,000")
                checks.append(page.timings.median < PAGE_LIMIT)
            self.rows.append(
                Row(
                    page.name,
                    str(size),
                    f"median {ms(page.timings.median)}, {page.timings.sql} SQL",
                    f"median {ms(floor.median)}, {floor.sql} SQL",
                    ratio(page.timings.median, floor.median),
                    ", ".join(goal),
                    verdict(*checks),
                )
            )

    def export(self, size: int, mode: str, figures: dict, floor: dict) -> None:
        peaks = self.export_peaks.setdefault(mode, {})
        peaks[size] = figures["maxrss"]
        smallest = peaks[min(peaks)]
        flat = figures["maxrss"] <= 1.25 * smallest
        self.rows.append(
            Row(
                f"{mode.upper()} export",
                str(size),
                f"{figures['seconds']:.2f} s, peak RSS {figures['maxrss'] / MIB:.0f} MiB",
                f"{floor['seconds']:.2f} s, peak RSS {floor['maxrss'] / MIB:.0f} MiB (SQL + csv)",
                ratio(figures["seconds"], floor["seconds"]),
                "≤ 3× floor, memory flat 100 → 1,000",
                verdict(figures["seconds"] <= 3 * floor["seconds"], flat),
            )
        )

    def casebook(self, size: int, f: CasebookFigures) -> None:
        self.rows.append(
            Row(
                f"casebook PDF of {f.identifier} ({f.pages} pages)",
                str(size),
                f"{f.whole_s:.2f} s",
                f"{f.floor_s:.2f} s (WeasyPrint on the finished HTML)",
                ratio(f.whole_s, f.floor_s),
                "≤ 1.3× floor",
                verdict(f.whole_s <= 1.3 * f.floor_s),
            )
        )

    def verify(self, size: int, f: VerifyFigures) -> None:
        state = "intact" if f.intact else f"{f.problems} problems"
        self.rows.append(
            Row(
                f"`ecrf audit verify` ({f.events:,} events, {state})",
                str(size),
                f"{f.verify_s:.2f} s (chain alone {f.chain_s:.2f} s)",
                f"{f.scan_s:.2f} s (a streamed scan of the events)",
                ratio(f.verify_s, f.scan_s),
                "none set (figure only)",
                "—" if f.intact else "missed",
            )
        )

    def markdown(self) -> str:
        head = ("Section", "N", "Figure", "Floor", "Ratio", "Goal", "Verdict")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.rows:
            cells = (row.section, row.size, row.figure, row.floor, row.ratio, row.goal)
            lines.append("| " + " | ".join((*cells, row.verdict)) + " |")
        return "\n".join(lines)
