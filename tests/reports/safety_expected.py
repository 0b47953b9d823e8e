"""What the safety report must show, computed another way: straight from the database tables
with SQL and plain Python, never through the report's stream, plan or code."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Site, Subject, SubjectVisit

PARIS = ZoneInfo("Europe/Paris")
RELATED = {"POSSIBLE", "PROBABLE", "RELATED"}
CRITERIA = {
    "AESDTH": "death",
    "AESLIFE": "life-threatening",
    "AESHOSP": "hospitalisation",
    "AESDISAB": "disability",
    "AESCONG": "congenital anomaly",
    "AESMIE": "medically important",
}
#: Test code → (form, grade item), as forms/iahprrt/labs.py declares them.
GRADES = {
    "HGB": ("LBHEM", "HGBGR"),
    "WBC": ("LBHEM", "WBCGR"),
    "NEUT": ("LBHEM", "NEUTGR"),
    "LYM": ("LBHEM", "LYMGR"),
    "PLAT": ("LBHEM", "PLATGR"),
    "CREAT": ("LBCHEM", "CREATGR"),
    "ALT": ("LBCHEM", "ALTGR"),
    "AST": ("LBCHEM", "ASTGR"),
    "BILI": ("LBCHEM", "BILIGR"),
    "ALP": ("LBCHEM", "ALPGR"),
    "GGT": ("LBCHEM", "GGTGR"),
    "ALB": ("LBCHEM", "ALBGR"),
}


@dataclass
class Row:
    site: str
    subject: str
    visit: str
    visit_date: date | None
    order: tuple[int, int]
    values: dict[str, str] = field(default_factory=dict)
    #: Missing-data codes (NA, ND…) of the items given one instead of a value.
    missing: dict[str, str] = field(default_factory=dict)


def stored(form_oids: tuple[str, ...], sites: set[str] | None = None) -> list[Row]:
    """Every non-removed row of the forms, with its values' text (None-valued items left out)."""
    query = (
        sa.select(
            Site.code,
            Subject.identifier,
            SubjectVisit.visit_oid,
            SubjectVisit.visit_date,
            SubjectVisit.id,
            ItemGroupRow.id,
            ItemValue.item_oid,
            ItemValue.value_text,
            ItemValue.missing_code,
        )
        .select_from(ItemValue)
        .join(ItemGroupRow, ItemGroupRow.id == ItemValue.row_id)
        .join(FormEntry, FormEntry.id == ItemGroupRow.entry_id)
        .join(SubjectVisit, SubjectVisit.id == FormEntry.visit_id)
        .join(Subject, Subject.id == SubjectVisit.subject_id)
        .join(Site, Site.id == Subject.site_id)
        .where(FormEntry.form_oid.in_(form_oids), ItemGroupRow.removed.is_(False))
    )
    if sites is not None:
        query = query.where(Site.code.in_(sites))
    rows: dict[int, Row] = {}
    for (
        code,
        subject,
        visit,
        visit_date,
        visit_id,
        row_id,
        item,
        value,
        missing,
    ) in db.session.execute(query):
        row = rows.setdefault(row_id, Row(code, subject, visit, visit_date, (visit_id, row_id)))
        if value is not None:
            row.values[item] = value
        elif missing is not None:
            row.missing[item] = missing
    return list(rows.values())


# --- adverse events ---------------------------------------------------------------------------


@dataclass
class Events:
    count: int
    grades: Counter
    worst: Counter
    serious: Counter
    serious_subjects: dict[str, int]
    criteria: dict[str, tuple[int, int]]
    #: cause item → code → (events, subjects)
    relationships: dict[str, dict[str, tuple[int, int]]]
    related: dict[str, tuple[int, int]]
    terms: dict[str, list[str]]


def events(sites: set[str] | None = None) -> Events:
    rows = [r for r in stored(("AE",), sites) if r.visit == "LOGS"]
    worst: dict[str, int] = {}
    subjects_by = defaultdict(set)
    events_by: Counter = Counter()
    terms = defaultdict(list)
    for row in rows:
        grade = int(row.values["AETOXGR"])
        worst[row.subject] = max(worst.get(row.subject, 0), grade)
        terms[row.subject].append(row.values["AETERM"])
        serious = row.values["AESER"]
        events_by[("serious", serious)] += 1
        subjects_by[("serious", serious)].add(row.subject)
        for item in CRITERIA:
            if row.values.get(item) == "Y":
                events_by[("criterion", item)] += 1
                subjects_by[("criterion", item)].add(row.subject)
        for cause in ("AERELPR", "AEREL"):
            code = row.values.get(cause) or row.missing.get(cause, "")
            events_by[(cause, code)] += 1
            subjects_by[(cause, code)].add(row.subject)
            if code in RELATED:
                events_by[(cause, "related")] += 1
                subjects_by[(cause, "related")].add(row.subject)

    def pair(key):
        return events_by[key], len(subjects_by[key])

    return Events(
        count=len(rows),
        grades=Counter(int(r.values["AETOXGR"]) for r in rows),
        worst=Counter(worst.values()),
        serious=Counter(r.values["AESER"] for r in rows),
        serious_subjects={k: len(subjects_by[("serious", k)]) for k in ("Y", "N")},
        criteria={item: pair(("criterion", item)) for item in CRITERIA},
        relationships={
            cause: {code: pair((c, code)) for (c, code) in events_by if c == cause}
            for cause in ("AERELPR", "AEREL")
        },
        related={cause: pair((cause, "related")) for cause in ("AERELPR", "AEREL")},
        terms=dict(terms),
    )


# --- shift tables -----------------------------------------------------------------------------


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text and len(text) == 10 else None


def _clock(text: str | None) -> time | None:
    return time.fromisoformat(text) if text else None


def shifts(sites: set[str] | None = None) -> tuple[int, dict[str, Counter]]:
    """Treated subjects, and per test code the Counter of (baseline, worst after T0)."""
    therapy = {
        r.subject
        for r in stored(("IC",), sites)
        if r.visit == "SCR" and r.values.get("THERAPY") == "Y"
    }
    t0 = {}
    for row in stored(("LUADM",), sites):
        if row.visit == "THER" and "EXSTDAT" in row.values and row.subject in therapy:
            t0[row.subject] = (_day(row.values["EXSTDAT"]), _clock(row.values.get("EXSTTIM")))
    samples = defaultdict(list)  # (subject, test) → [(date, order, grade, before)]
    for row in stored(("LBHEM", "LBCHEM")):
        if row.subject not in t0 or (sites is not None and row.site not in sites):
            continue
        day = _day(row.values.get("LBDAT")) or row.visit_date
        start_day, start_time = t0[row.subject]
        sample_time = _clock(row.values.get("LBTIM"))
        before = day < start_day or (
            day == start_day
            and (sample_time is None or start_time is None or sample_time <= start_time)
        )
        for test, (_, item) in GRADES.items():
            if item in row.values:
                samples[(row.subject, test)].append((day, row.order, int(row.values[item]), before))
    tables: dict[str, Counter] = {test: Counter() for test in GRADES}
    for (_, test), found in samples.items():
        baseline = [s for s in found if s[3]]
        after = [s[2] for s in found if not s[3]]
        if baseline and after:
            last = max(baseline, key=lambda s: (s[0], s[1]))
            tables[test][(last[2], max(after))] += 1
    return len(t0), tables


# --- the 24 h clock -----------------------------------------------------------------------------


def report_hours(sites: set[str] | None = None) -> dict[tuple[str, int], float | None]:
    """(subject, AE number) → real hours from awareness to the first initial report sent, for
    the reports with both dates and times."""
    first: dict[tuple[str, int], Row] = {}
    for row in stored(("SAE",), sites):
        if row.values.get("SAETYPE") != "INITIAL" or "REPDAT" not in row.values:
            continue
        key = (row.subject, int(row.values["SAESPID"]))
        sent = (row.values["REPDAT"], row.values.get("REPTIM", ""))
        if key not in first or sent < (
            first[key].values["REPDAT"],
            first[key].values.get("REPTIM", ""),
        ):
            first[key] = row
    hours = {}
    for key, row in first.items():
        values = row.values
        if "AWARTIM" in values and "REPTIM" in values:
            aware = datetime.combine(_day(values["AWARDAT"]), _clock(values["AWARTIM"]), PARIS)
            sent = datetime.combine(_day(values["REPDAT"]), _clock(values["REPTIM"]), PARIS)
            hours[key] = (sent.astimezone(UTC) - aware.astimezone(UTC)).total_seconds() / 3600
        else:
            hours[key] = None
    return hours
