"""The safety report on the seeded trial: its counts, shift tables and 24 h clock against the
database read another way (tests/reports/safety_expected.py), a hand-built subject whose
reports are late, within and pending, the PDF read back, the command and who may read it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from ecrf.audit.models import AuditEvent
from ecrf.crf.services import save_form
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.reporting.plans import report_plan
from ecrf.reporting.safety import build_safety, safety_plan
from ecrf.reporting.safety.serious import Status, hours_text, report_clock
from ecrf.study import subjects
from forms.iahprrt.reports import SAFETY
from reports.render import html_to_pdf, render_html
from tests.reports import safety_expected as expected
from tests.reports.pdf_text import page_texts, words
from tests.seeded_trial import process_env

ECRF = str(Path(sys.executable).with_name("ecrf"))
PARIS = ZoneInfo("Europe/Paris")

# --- the hand-built subject -------------------------------------------------------------------

#: French terms as a site types them, with the units a report must render.
HAND_TERMS = {
    1: "Cholangite aiguë (bilirubine 60 µmol/L)",
    2: "Hépatite médicamenteuse",
    3: "Thrombopénie < 50 000/mm³",
    4: "Fièvre ≥ 39 °C",
    5: "Choc septique",
    6: "Embolie pulmonaire",
}


def _quiet_day(today: date) -> date:
    """A past day with no change of summer time from the day before to four days after (the
    hand-built hours are wall-clock hours)."""
    day = today - timedelta(days=40)
    while (
        len(
            {
                datetime.combine(day + timedelta(days=n), time(12), PARIS).utcoffset()
                for n in range(-1, 5)
            }
        )
        > 1
    ):
        day -= timedelta(days=7)
    return day


@dataclass
class Hand:
    subject: str
    day: date
    #: When the pending report's site became aware (Paris time).
    pending_aware: datetime


def _hand_built(app) -> Hand:
    """A TLS subject with six serious AEs: reported 30 h after awareness, after 5 h, not yet
    (awareness recorded, no report), never (no report row), and on dates only, next day and
    three days later."""
    with app.app_context():
        study = current_study()
        day = _quiet_day(utcnow().date())
        subject = subjects.register_subject(get_site("TLS"), actor=None)
        save_form(
            study,
            subject,
            "SCR",
            "IC",
            {
                ("IC", 1): {
                    "ICDAT": (day - timedelta(days=10)).isoformat(),
                    "ICVERS": "v2",
                    "THERAPY": "N",
                }
            },
            actor=None,
            expected_version=0,
        )
        rows = {}
        for number, term in HAND_TERMS.items():
            rows[("AE", number)] = {
                "AESPID": str(number),
                "AETERM": term,
                "AESTDAT": day.isoformat(),
                "AEONGO": "Y",
                "AETOXGR": "3",
                "AESER": "Y",
                "AESHOSP": "Y",
                "AESDTH": "N",
                "AERELPR": "NOT",
                "AEREL": "NA",
                "AECONTRT": "Y",
                "AEOUT": "NOTRECOVERED",
            }
        save_form(study, subject, "LOGS", "AE", rows, actor=None, expected_version=0)

        def report(number, aware, aware_time, sent=None, sent_time=None):
            values = {
                "SAESPID": str(number),
                "SAETYPE": "INITIAL",
                "AWARDAT": aware.isoformat(),
                "SAENARR": "Récit de l'événement.",
            }
            if aware_time:
                values["AWARTIM"] = aware_time
            if sent:
                values["REPDAT"] = sent.isoformat()
            if sent_time:
                values["REPTIM"] = sent_time
            return values

        next_day = day + timedelta(days=1)
        reports = {
            ("SAE", 1): report(1, day, "08:00", next_day, "14:00"),
            ("SAE", 2): report(2, day, "10:00", day, "15:00"),
            ("SAE", 3): report(3, day + timedelta(days=2), "09:00"),
            ("SAE", 4): report(5, day, None, next_day),
            ("SAE", 5): report(6, day, None, day + timedelta(days=3)),
        }
        save_form(study, subject, "LOGS", "SAE", reports, actor=None, expected_version=0)
        db.session.commit()
        pending = datetime.combine(day + timedelta(days=2), time(9), PARIS)
        return Hand(subject.identifier, day, pending)


@pytest.fixture(scope="module")
def trial(seeded):
    seeded.hand = _hand_built(seeded.app)
    return seeded


def client_of(trial, username: str):
    client = trial.app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": trial.passwords[username]}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def report_of(trial, sites: set[str] | None = None, now: datetime | None = None) -> dict:
    with trial.app.app_context():
        site_ids = None
        if sites is not None:
            site_ids = {get_site(code).id for code in sites}
        return build_safety(current_study(), safety_plan(), site_ids, now=now or utcnow())


@dataclass
class ReadBack:
    reader: PdfReader
    #: The text of each page (pdftotext), and all of it with white space collapsed.
    pages: list[str]
    text: str


def read_back(data: bytes) -> ReadBack:
    """The PDF (pypdf) and its text, each page's and all of it."""
    pages = page_texts(data)
    return ReadBack(PdfReader(io.BytesIO(data)), pages, words(" ".join(pages)))


# --- the plan ---------------------------------------------------------------------------------


def test_the_trial_declares_its_safety_plan(trial):
    with trial.app.app_context():
        assert report_plan("SAFETY") is SAFETY


def test_every_form_item_and_code_the_plan_names_exists_in_the_definition(trial):
    with trial.app.app_context():
        study = current_study()
    log, sae, labs, t0 = (
        SAFETY.adverse_events,
        SAFETY.serious_reports,
        SAFETY.labs,
        SAFETY.treatment,
    )
    ae_items = [
        log.number, log.term, log.start, log.ongoing, log.end, log.grade, log.serious,
        log.outcome, log.treated, log.lab_term,
        *(c.item for c in log.criteria), *(c.item for c in log.causes),
    ]  # fmt: skip
    assert all(study.has_item(log.form, item) for item in ae_items)
    assert log.form in study.visits[log.visit].forms
    codes = dict(study.codelists["AEREL"].codes)
    assert set(log.related) <= set(codes) and "UNLIKELY" not in log.related
    sae_items = [sae.number, sae.kind, sae.aware_date, sae.aware_time, sae.sent_date, sae.sent_time]
    assert all(study.has_item(sae.form, item) for item in sae_items)
    assert sae.initial in dict(study.codelists["SAETYPE"].codes)
    assert study.has_item(t0.form, t0.date) and study.has_item(t0.form, t0.time)
    assert t0.subgroup in study.subgroups
    graded = {
        item.sdtm[len(labs.grade_annotation) + 1 : -1]
        for form in labs.forms
        for _, item in study.forms[form].items()
        if (item.sdtm or "").startswith(labs.grade_annotation + "[")
    }
    assert graded == set(dict(labs.terms)) == set(expected.GRADES)
    assert set(dict(labs.terms).values()) <= set(dict(study.codelists["LABTERM"].codes))


# --- adverse events -----------------------------------------------------------------------------


@pytest.mark.parametrize("sites", [None, {"BDX"}, {"TLS"}], ids=["all", "BDX", "TLS"])
def test_adverse_event_counts_are_those_of_the_database(trial, sites):
    report = report_of(trial, sites)
    with trial.app.app_context():
        truth = expected.events(sites)
    events = report["events"]
    assert events["count"] == truth.count > 0
    grades = {row["grade"]: row for row in events["by_grade"]["rows"]}
    assert [g for g in grades] == [1, 2, 3, 4, 5]
    assert {g: row["events"] for g, row in grades.items()} == {
        g: truth.grades[g] for g in range(1, 6)
    }
    assert {g: row["subjects"] for g, row in grades.items()} == {
        g: truth.worst[g] for g in range(1, 6)
    }
    assert events["by_grade"]["subjects"] == sum(truth.worst.values())

    seriousness = {row["label"]: row for row in events["by_seriousness"]["rows"]}
    assert (seriousness["Serious"]["events"], seriousness["Serious"]["subjects"]) == (
        truth.serious["Y"],
        truth.serious_subjects["Y"],
    )
    assert seriousness["Not serious"]["events"] == truth.serious["N"]
    for item, label in expected.CRITERIA.items():
        assert (seriousness[label]["events"], seriousness[label]["subjects"]) == truth.criteria[
            item
        ]

    causes = {cause["cause"]: cause for cause in events["by_relationship"]}
    assert list(causes) == ["IAH procedure", "177Lu-dotatate by IAH"]
    labels = {"NOT": "Not related", "UNLIKELY": "Unlikely related", "POSSIBLE": "Possibly related",
              "PROBABLE": "Probably related", "RELATED": "Related", "NA": "Not applicable",
              "": "Not recorded"}  # fmt: skip
    for cause, item in (("IAH procedure", "AERELPR"), ("177Lu-dotatate by IAH", "AEREL")):
        rows = {row["label"]: (row["events"], row["subjects"]) for row in causes[cause]["rows"]}
        for code, counts in truth.relationships[item].items():
            if code != "related":
                assert rows[labels[code]] == counts, (cause, code)
        related = causes[cause]["related"]
        assert (related["events"], related["subjects"]) == truth.related[item]
        assert causes[cause]["related_labels"] == [
            "Possibly related",
            "Probably related",
            "Related",
        ]


def test_the_listing_holds_every_event_of_the_scope_by_subject(trial):
    report = report_of(trial, {"BDX", "NTE"})
    with trial.app.app_context():
        truth = expected.events({"BDX", "NTE"})
    listing = report["events"]["listing"]
    assert {
        entry["subject"]: [e["term"] for e in entry["events"]] for entry in listing
    } == truth.terms
    assert all(entry["site"] in ("BDX", "NTE") for entry in listing)
    for entry in listing:
        numbers = [e["number"] for e in entry["events"]]
        assert numbers == sorted(numbers)
        for event in entry["events"]:
            assert [r["cause"] for r in event["relationships"]] == [
                "IAH procedure",
                "177Lu-dotatate by IAH",
            ]


# --- shift tables -----------------------------------------------------------------------------


@pytest.mark.parametrize("sites", [None, {"TLS"}], ids=["all", "TLS"])
def test_shift_tables_count_baseline_against_worst_grade_after_t0(trial, sites):
    report = report_of(trial, sites)
    with trial.app.app_context():
        treated, truth = expected.shifts(sites)
    shifts = report["shifts"]
    assert shifts["treated"] == treated > 0
    assert [a["testcd"] for a in shifts["analytes"]] == list(expected.GRADES)
    changed = 0
    for analyte in shifts["analytes"]:
        table = truth[analyte["testcd"]]
        assert analyte["grades"] == [0, 1, 2, 3, 4]
        found = {
            (row["grade"], analyte["grades"][i]): cell["count"]
            for row in analyte["rows"]
            for i, cell in enumerate(row["cells"])
            if cell["count"]
        }
        assert found == dict(table), analyte["testcd"]
        assert analyte["subjects"] == sum(table.values())
        assert (
            analyte["subjects"] + analyte["without_baseline"] + analyte["without_post"] == treated
        )
        assert analyte["worsened"] == sum(n for (b, w), n in table.items() if w > b)
        changed += analyte["worsened"]
    assert changed > 0  # the seeded trial has toxicities: the tables are not all diagonal
    names = {a["testcd"]: (a["label"], a["term"]) for a in shifts["analytes"]}
    assert names["HGB"] == ("Haemoglobin", "Anemia")
    assert names["CREAT"] == ("Creatinine", "Creatinine increased")


# --- the 24 h clock -----------------------------------------------------------------------------


def test_every_serious_event_of_the_database_has_its_clock(trial):
    report = report_of(trial)
    with trial.app.app_context():
        truth = expected.events()
        hours = expected.report_hours()
    rows = report["serious"]["rows"]
    assert len(rows) == truth.serious["Y"]
    checked = 0
    for row in rows:
        key = (row["subject"], row["number"])
        if hours.get(key) is None:
            continue
        # Shown to a tenth of an hour: at most half a tenth away (and a float's error).
        assert abs(float(row["hours"]) - hours[key]) <= 0.05 + 1e-9
        assert row["status"] == (Status.WITHIN if hours[key] <= 24 else Status.LATE)
        checked += 1
    assert checked >= 1


def test_the_hand_built_reports_are_late_within_pending_and_missing(trial):
    hand = trial.hand
    now = hand.pending_aware.astimezone(UTC) + timedelta(hours=10)
    report = report_of(trial, {"TLS"}, now=now)
    rows = {r["number"]: r for r in report["serious"]["rows"] if r["subject"] == hand.subject}
    assert set(rows) == set(HAND_TERMS)
    day, next_day = hand.day.isoformat(), (hand.day + timedelta(days=1)).isoformat()

    late = rows[1]
    assert (late["aware"], late["reported"]) == (f"{day} 08:00", f"{next_day} 14:00")
    assert (late["hours"], late["status"], late["verdict"]) == ("30", Status.LATE, "late by 6 h")
    within = rows[2]
    assert (within["hours"], within["status"], within["verdict"]) == (
        "5",
        Status.WITHIN,
        "within 24 h",
    )
    pending = rows[3]
    assert pending["reported"] == "" and pending["status"] == Status.PENDING
    assert pending["verdict"] == "no report yet (10 h since awareness)"
    assert (rows[4]["status"], rows[4]["verdict"]) == (Status.MISSING, "no report recorded")
    assert rows[5]["dates_only"] and rows[5]["verdict"] == "within 24 h (dates only)"
    assert rows[6]["dates_only"] and rows[6]["verdict"] == "late by 2 d (dates only)"
    assert report["serious"]["dates_only"] >= 2

    overdue = report_of(trial, {"TLS"}, now=now + timedelta(hours=20))
    row = next(
        r for r in overdue["serious"]["rows"] if (r["subject"], r["number"]) == (hand.subject, 3)
    )
    assert (row["status"], row["verdict"]) == (
        Status.OVERDUE,
        "no report yet (30 h since awareness)",
    )


def test_the_clock_counts_real_hours_across_a_change_of_summer_time():
    # 2026-03-29: Paris clocks go from 02:00 to 03:00; noon to noon is 23 real hours.
    clock = report_clock(
        date(2026, 3, 28), time(12), date(2026, 3, 29), time(12, 30),
        now=datetime(2026, 4, 1, tzinfo=UTC), deadline_hours=24, zone=PARIS,
    )  # fmt: skip
    assert (clock.status, clock.hours, clock.verdict) == (
        Status.WITHIN,
        Decimal("23.5"),
        "within 24 h",
    )
    autumn = report_clock(
        date(2026, 10, 24), time(12), date(2026, 10, 25), time(11, 30),
        now=datetime(2026, 11, 1, tzinfo=UTC), deadline_hours=24, zone=PARIS,
    )  # fmt: skip
    assert (autumn.status, autumn.verdict) == (Status.LATE, "late by 0.5 h")


@pytest.mark.parametrize(
    ("hours", "text"),
    [("5", "5"), ("1.25", "1.3"), ("30.04", "30"), ("47.94", "47.9"), ("914.6", "915")],
)
def test_hours_read_to_a_tenth_then_whole_from_two_days_on(hours, text):
    assert hours_text(Decimal(hours)) == text


def test_the_clock_refuses_a_naive_now_and_flags_a_report_before_awareness():
    with pytest.raises(ValueError):
        report_clock(
            date(2026, 1, 2),
            None,
            None,
            None,
            now=datetime(2026, 1, 3),  # noqa: DTZ001 (naive on purpose)
            deadline_hours=24,
            zone=PARIS,
        )
    before = report_clock(
        date(2026, 1, 2), time(9), date(2026, 1, 1), time(9),
        now=datetime(2026, 1, 3, tzinfo=UTC), deadline_hours=24, zone=PARIS,
    )  # fmt: skip
    assert before.status == Status.INCONSISTENT


# --- the PDF ----------------------------------------------------------------------------------


def test_the_monitor_downloads_an_archival_pdf_of_every_site(trial):
    client = client_of(trial, "monitor")
    response = client.get("/reports/safety.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "safety-report-all-sites-" in response.headers["Content-Disposition"]
    pdf = read_back(response.data)
    reader, text = pdf.reader, pdf.text
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp or 'conformance="B"' in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    pages = len(reader.pages)
    assert pages >= 3 and len(pdf.pages) == pages
    for number, page in enumerate(pdf.pages, start=1):
        assert f"Page {number} of {pages}" in page
        assert "Safety report · All sites" in page
    headings = (
        "Adverse events",
        "By worst CTCAE v5.0 grade",
        "Relationship to the IAH procedure",
        "Serious adverse events: the 24 h report clock",
        "Laboratory shift tables",
        "Adverse event listing",
        "Worst after T0",
    )
    for heading in headings:
        assert heading in text, heading
    assert "baseline is the grade of the last sample on or before T0" in text
    for term in HAND_TERMS.values():  # French accents and units survive
        assert term in text, term
    assert "≥ 1 such event" in text
    assert "late by 6 h" in text and "no report recorded" in text
    # The listing is on landscape pages, the summaries on portrait ones.
    first, last = reader.pages[0].mediabox, reader.pages[-1].mediabox
    assert first.width < first.height and last.width > last.height
    assert "Adverse event listing" in "".join(
        text
        for p, text in zip(reader.pages, pdf.pages, strict=True)
        if p.mediabox.width > p.mediabox.height
    )


@dataclass
class BordeauxPdf:
    data: bytes
    #: The trail's "report" events written while it was downloaded: (entity, id, site, new).
    events: list[tuple[str, str, int, str]]


@pytest.fixture(scope="module")
def bordeaux_pdf(trial) -> BordeauxPdf:
    """The Bordeaux investigator's download of the safety PDF (their site only), rendered
    once for the tests that read it."""
    client = client_of(trial, "investigator.bdx")
    with trial.app.app_context():
        before = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq)))
    response = client.get("/reports/safety.pdf")
    assert response.status_code == 200
    with trial.app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.seq > before, AuditEvent.action == "report")
        )
        written = [(e.entity, e.entity_id, e.site_id, e.new) for e in events]
    return BordeauxPdf(response.data, written)


def test_each_pdf_generated_is_recorded_in_the_audit_trail(trial, bordeaux_pdf):
    (event,) = bordeaux_pdf.events
    entity, entity_id, site_id, new = event
    with trial.app.app_context():
        bdx = get_site("BDX").id
    assert (entity, entity_id, site_id) == ("report", "safety", bdx)
    detail = json.loads(new)
    assert detail["sites"] == ["BDX"] and detail["adverse_events"] == expected_count(trial, {"BDX"})
    assert len(detail["checkpoint"]) == 64


def expected_count(trial, sites) -> int:
    with trial.app.app_context():
        return expected.events(sites).count


def test_a_long_listing_repeats_its_header_on_every_landscape_page(trial):
    report = report_of(trial)
    entry = report["events"]["listing"][0]
    report["events"]["listing"] = [
        {**entry, "subject": f"BDX-{n:03d}"} for n in range(1, 41)
    ]  # 40 subjects' events: several landscape pages
    page = {"title": "Safety report", "header_left": "IAH-PRRT", "header_right": "Safety report",
            "generated_at": datetime(2026, 11, 25, 10, 30, tzinfo=UTC), "generated_by": "monitor",
            "checkpoint": "0" * 64}  # fmt: skip
    pdf = read_back(html_to_pdf(render_html("safety.html", {"page": page, "report": report})))
    landscape = [
        words(text)
        for p, text in zip(pdf.reader.pages, pdf.pages, strict=True)
        if p.mediabox.width > p.mediabox.height
    ]
    assert len(landscape) >= 3
    for text in landscape:
        assert "Subject No. Adverse event Start End Grade Serious Relationship to the IAH" in text
        assert "Outcome" in text and "BDX-" in text


# --- the command ------------------------------------------------------------------------------


def _env(trial, tmp_path) -> dict[str, str]:
    return process_env(trial.app, trial.url, tmp_path / "instance")


def _ecrf(trial, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ECRF, "report", "safety", *args],
        env=_env(trial, tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_command_writes_one_sites_report(trial, tmp_path):
    out = tmp_path / "safety-tls.pdf"
    result = _ecrf(trial, tmp_path, "--site", "tls", "--out", str(out))
    assert result.returncode == 0, result.stderr
    count = expected_count(trial, {"TLS"})
    assert f"Safety report of TLS written to {out} ({count} adverse events" in result.stdout
    text = read_back(out.read_bytes()).text
    assert "Safety report · TLS" in text and HAND_TERMS[4] in text
    assert "BDX-" not in text and "NTE-" not in text
    assert "by cli:" in text  # the operator generated it
    with trial.app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "report")
            .order_by(AuditEvent.seq.desc())
        ).first()
    assert event.actor.startswith("cli:") and json.loads(event.new)["sites"] == ["TLS"]


def _refused(trial, *args: str):
    """The command run in this process (its refusals need no process of their own): a
    refusal is a message and exit code 1, never an exception escaping the command."""
    result = trial.app.test_cli_runner().invoke(args=["report", "safety", *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    return result


def test_the_command_refuses_an_unknown_site_without_a_traceback(trial, tmp_path):
    out = tmp_path / "never.pdf"
    result = _refused(trial, "--site", "XYZ", "--out", str(out))
    assert "There is no site XYZ." in result.stderr
    assert not out.exists()


def test_the_command_refuses_a_folder_that_does_not_exist(trial, tmp_path):
    result = _refused(trial, "--out", str(tmp_path / "nowhere" / "s.pdf"))
    assert "does not exist" in result.stderr


def test_a_study_without_a_safety_plan_says_so(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["report", "safety", "--out", str(tmp_path / "s.pdf")]
    )
    assert result.exit_code == 1
    assert "This study declares no safety report." in result.output
    assert not (tmp_path / "s.pdf").exists()


# --- who may read it ----------------------------------------------------------------------------


def test_the_monitor_sees_every_site_on_the_page(trial):
    client = client_of(trial, "monitor")
    page = client.get("/reports/safety")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for code in ("BDX", "NTE", "TLS"):
        assert f"{code} · " in html
    assert trial.hand.subject in html and "Hépatite médicamenteuse" in html
    assert 'href="/reports/safety.pdf"' in html
    one = client.get("/reports/safety?site=nte").get_data(as_text=True)
    assert "NTE · " in one and "BDX · " not in one and trial.hand.subject not in one
    assert 'href="/reports/safety.pdf?site=NTE"' in one


def test_the_bordeaux_investigator_reads_bordeaux_only(trial, bordeaux_pdf):
    client = client_of(trial, "investigator.bdx")
    page = client.get("/reports/safety")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "BDX · " in html and "TLS · " not in html and "TLS-" not in html and "NTE-" not in html
    for url in ("/reports/safety?site=TLS", "/reports/safety.pdf?site=TLS"):
        response = client.get(url)
        assert response.status_code == 403
        assert "You do not hold the right to download reports at site TLS." in response.get_data(
            as_text=True
        )
    text = read_back(bordeaux_pdf.data).text
    assert "Safety report · BDX" in text and "TLS-" not in text


@pytest.mark.parametrize("username", ["staff.bdx", "sponsor", "admin"])
def test_readers_without_the_right_to_download_reports_are_refused(trial, username):
    client = client_of(trial, username)
    for url in ("/reports/safety", "/reports/safety.pdf"):
        assert client.get(url).status_code == 403
    assert "Safety report" not in client.get("/reports/").get_data(as_text=True)


def test_the_reports_page_offers_the_safety_report_to_its_readers(trial):
    page = client_of(trial, "datamanager").get("/reports/").get_data(as_text=True)
    assert "Safety report" in page and 'href="/reports/safety"' in page


@pytest.mark.parametrize("site", ["XX", "<b>", "x" * 300, "١٢٣", "🙂"])
def test_junk_sites_are_a_clear_refusal_never_an_error(trial, site):
    client = client_of(trial, "monitor")
    for url in ("/reports/safety", "/reports/safety.pdf"):
        response = client.get(url, query_string={"site": site, "page": site, "status": site})
        assert response.status_code == 422
        assert "There is no site" in response.get_data(as_text=True)
    assert client.get("/reports/safety", query_string={"page": "x", "junk": "1"}).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(trial):
    client = trial.app.test_client()
    for url in ("/reports/safety", "/reports/safety.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
