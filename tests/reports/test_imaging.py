"""The imaging report on the seeded trial: lesions paired by identifier, the gains checked
against the database, the unpaired lesion listed, the plot, the PDF read back, the command
and who may read it at which site."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from statistics import median

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from ecrf.audit.models import AuditEvent
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import (
    Finding,
    FindingStatus,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Site,
    Subject,
    SubjectVisit,
)
from ecrf.reporting.imaging import build_imaging_report
from ecrf.reporting.imaging_page import imaging_context
from ecrf.reporting.plans import report_plan
from ecrf.study.subjects import get_subject
from forms.iahprrt.reports import IMAGING
from tests.pages import masked
from tests.reports.pdf_text import page_texts

ECRF = str(Path(sys.executable).with_name("ecrf"))
#: The lesion given a new identifier on one subject's PET-IAH: it is then on one PET only.
RENAMED = "L9"


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def stored_rows(form_oid: str, group_oid: str) -> dict[str, dict[int, dict[str, str]]]:
    """{subject: {repeat key: {item: stored text}}} of one form's group, straight from the
    tables (not through the code under test)."""
    query = (
        sa.select(
            Subject.identifier, ItemGroupRow.repeat_key, ItemValue.item_oid, ItemValue.value_text
        )
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .join(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .where(
            FormEntry.form_oid == form_oid,
            SubjectVisit.visit_oid == form_oid,
            ItemGroupRow.group_oid == group_oid,
            ItemGroupRow.removed.is_(False),
        )
    )
    found: dict[str, dict[int, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for subject, key, item, text in db.session.execute(query):
        found[subject][key][item] = text
    return found


def expected_gains(
    site_code: str | None = None, perfused: str = "Y"
) -> dict[str, dict[str, Decimal]]:
    """{subject: {lesion: SUVmax IAH / SUVmax IV}} of the lesions on both PETs in the same
    segment, perfused ("Y", the endpoint) or not ("N"), computed here."""
    iv, iah = stored_rows("PETIV", "IDX"), stored_rows("PETIAH", "IDX")
    gains: dict[str, dict[str, Decimal]] = {}
    for subject, rows in iah.items():
        if site_code and not subject.startswith(site_code):
            continue
        before = {
            r["LESID"].strip().upper(): (r.get("SUVMAX"), r.get("SEGMENT"))
            for r in iv.get(subject, {}).values()
        }
        for row in rows.values():
            lesion, after = row["LESID"].strip().upper(), row.get("SUVMAX")
            value, segment = before.get(lesion, (None, None))
            if row.get("PERF") != perfused or segment != row.get("SEGMENT"):
                continue
            if value and after is not None:
                gains.setdefault(subject, {})[lesion] = Decimal(after) / Decimal(value)
    return gains


def _save_lesion_id(subject_id: str, key: int, identifier: str) -> None:
    subject = get_subject(subject_id)
    entry = db.session.scalar(
        sa.select(FormEntry)
        .join(SubjectVisit, SubjectVisit.id == FormEntry.visit_id)
        .where(SubjectVisit.subject_id == subject.id, FormEntry.form_oid == "PETIAH")
    )
    save_form(
        current_study(),
        subject,
        "PETIAH",
        "PETIAH",
        {("IDX", key): {"LESID": identifier}},
        actor=None,
        expected_version=entry.version,
        reason="Lesion re-identified on review",
    )
    db.session.commit()


@pytest.fixture(scope="module")
def trial(seeded):
    """The seeded trial, where one subject's PET-IAH lesion got a new identifier (RENAMED):
    its PET-IV lesion and the renamed one are each on one PET only; and another's was
    retyped in lower case (it still pairs)."""
    with seeded.app.app_context():
        gains = expected_gains()
        renamed, retyped = sorted(s for s in gains if len(gains[s]) >= 2)[:2]
        iah = stored_rows("PETIAH", "IDX")
        key, row = sorted(iah[renamed].items())[-1]
        _save_lesion_id(renamed, key, RENAMED)
        seeded.renamed = (renamed, row["LESID"])
        key, row = sorted(iah[retyped].items())[0]
        _save_lesion_id(retyped, key, row["LESID"].lower())
        seeded.retyped = (retyped, row["LESID"].lower())
    return seeded


def login(trial, username: str):
    client = trial.app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": trial.passwords[username]}
    )
    assert response.status_code == 302
    return client


def report(trial, **scope):
    with trial.app.app_context():
        return build_imaging_report(current_study(), report_plan("IMAGING"), actor=None, **scope)


# --- the numbers ------------------------------------------------------------------------------


def test_the_trial_declares_its_imaging_plan(trial):
    with trial.app.app_context():
        assert report_plan("IMAGING") is IMAGING
        study = current_study()
        for scan in (IMAGING.reference, IMAGING.tested):
            assert scan.form in study.visits[scan.visit].forms
            for table in (IMAGING.index_lesions, *IMAGING.other_lesions):
                for item in (table.id_item, table.location_item, *(m.item for m in table.metrics)):
                    assert study.item(scan.form, item)[0].oid == table.group
        for metric in IMAGING.index_lesions.metrics:
            assert study.item("PETIAH", metric.ratio_item)[1].derived


def test_lesions_pair_by_identifier_and_the_gains_are_those_of_the_database(trial):
    built = report(trial)
    with trial.app.app_context():
        gains = expected_gains()
    everyone = sorted(g for lesions in gains.values() for g in lesions.values())
    assert built.lesions.count == len(everyone) > 20
    assert built.lesions.median == _two_places(median(everyone))
    assert (built.lesions.low, built.lesions.high) == (everyone[0], everyone[-1])
    assert built.lesions.higher == sum(1 for g in everyone if g > 1)
    by_subject = {s.identifier: s for s in built.subjects}
    for subject, lesions in gains.items():
        summary = by_subject[subject].summary
        values = sorted(lesions.values())
        assert summary.count == len(values)
        assert summary.median == _two_places(median(values))
        assert (summary.low, summary.high) == (values[0], values[-1])
        assert summary.higher == sum(1 for g in values if g > 1)
        computed = {le.identifier.upper(): le.gain for le in by_subject[subject].index.lesions}
        assert {k: computed[k] for k in lesions} == lesions
    medians = sorted(_two_places(median(v.values())) for v in gains.values())
    assert built.patients.count == len(medians)
    assert built.patients.median == _two_places(median(medians))
    assert (built.patients.low, built.patients.high) == (medians[0], medians[-1])


def test_each_ratio_is_the_one_the_definition_derived_and_stored(trial):
    built = report(trial)
    with trial.app.app_context():
        stored = stored_rows("PETIAH", "IDX")
    checked = 0
    for subject in built.subjects:
        rows = {r["LESID"]: r for r in stored.get(subject.identifier, {}).values()}
        for lesion in subject.index.lesions:
            if not lesion.paired:
                continue
            for measure in lesion.measures:
                assert measure.ratio == Decimal(rows[lesion.identifier][measure.metric.ratio_item])
                checked += 1
    assert checked > 80


def test_a_lesion_on_one_pet_only_is_listed_as_unpaired_never_dropped(trial):
    subject_id, old_id = trial.renamed
    built = report(trial, subject=subject_id)
    (subject,) = built.subjects
    lesions = {lesion.identifier: lesion for lesion in subject.index.lesions}
    assert (lesions[old_id].on_reference, lesions[old_id].on_tested) == (True, False)
    assert (lesions[RENAMED].on_reference, lesions[RENAMED].on_tested) == (False, True)
    assert {le.identifier for le in subject.index.unpaired} == {old_id, RENAMED}
    for identifier in (old_id, RENAMED):
        assert lesions[identifier].gain is None
        assert all(m.ratio is None for m in lesions[identifier].measures)
    # The derivation counts the pairs again: the report shows its stored count.
    paired = [le for le in subject.index.lesions if le.paired]
    assert subject.summary.count + subject.outside.count == len(paired) == len(lesions) - 2
    context = imaging_context(built, page={})
    table = context["subjects"][0]["index"]
    notes = {row["identifier"]: row["note"] for row in table["unpaired"]}
    assert notes == {old_id: "only on IV", RENAMED: "only on IAH"}


def test_the_lesions_outside_the_territory_injected_are_summarised_apart(trial):
    built = report(trial)
    with trial.app.app_context():
        outside = expected_gains(perfused="N")
    values = sorted(g for lesions in outside.values() for g in lesions.values())
    assert values, "the demo has lesions outside the territory injected"
    assert built.outside.count == len(values)
    assert built.outside.median == _two_places(median(values))
    by_subject = {s.identifier: s for s in built.subjects}
    for subject, lesions in outside.items():
        assert by_subject[subject].outside.count == len(lesions)
        flags = {le.identifier.upper(): le.perfused for le in by_subject[subject].index.lesions}
        assert all(flags[lesion] is False for lesion in lesions)
    context = imaging_context(built, page={})
    assert context["perfusion"] and context["study"]["outside"]["count"] == len(values)
    assert {row["perfused"] for s in context["subjects"] for row in s["index"]["rows"]} >= {
        "yes",
        "no",
    }


def test_a_lesion_given_another_segment_on_the_pet_iah_is_never_paired(trial):
    with trial.app.app_context():
        gains = expected_gains()
        subject_id = sorted(set(gains) - {trial.renamed[0], trial.retyped[0]})[0]
        key, row = sorted(stored_rows("PETIAH", "IDX")[subject_id].items())[0]
        other = "S1" if row["SEGMENT"] != "S1" else "S2"
        subject = get_subject(subject_id)
        entry = db.session.scalar(
            sa.select(FormEntry)
            .join(SubjectVisit, SubjectVisit.id == FormEntry.visit_id)
            .where(SubjectVisit.subject_id == subject.id, FormEntry.form_oid == "PETIAH")
        )
        save_form(
            current_study(),
            subject,
            "PETIAH",
            "PETIAH",
            {("IDX", key): {"SEGMENT": other}},
            actor=None,
            expected_version=entry.version,
            reason="Segment corrected on review",
        )
        db.session.commit()
    (built,) = report(trial, subject=subject_id).subjects
    moved = [le for le in built.index.lesions if le.identifier == row["LESID"]]
    assert len(moved) == 2 and all(le.moved and not le.paired for le in moved)
    assert all(le.gain is None for le in moved)
    table = imaging_context(report(trial, subject=subject_id), page={})["subjects"][0]["index"]
    notes = {r["note"] for r in table["unpaired"] if r["identifier"] == row["LESID"]}
    assert notes == {"segment not the same on both scans"}


def _save_pet(subject_id: str, form_oid: str, values: dict, reason: str) -> None:
    subject = get_subject(subject_id)
    entry = db.session.scalar(
        sa.select(FormEntry)
        .join(SubjectVisit, SubjectVisit.id == FormEntry.visit_id)
        .where(SubjectVisit.subject_id == subject.id, FormEntry.form_oid == form_oid)
    )
    save_form(
        current_study(),
        subject,
        form_oid,
        form_oid,
        {("PET", 1): values},
        actor=None,
        expected_version=entry.version,
        reason=reason,
    )
    db.session.commit()


def _open_pair_findings(subject_id: str) -> set[str]:
    subject = get_subject(subject_id)
    return set(
        db.session.scalars(
            sa.select(Finding.check_name).where(
                Finding.subject_id == subject.id,
                Finding.status == FindingStatus.OPEN,
                Finding.check_name.like("SAME_%"),
            )
        )
    )


def test_a_pet_pair_acquired_differently_raises_findings_the_pet_iv_can_resolve(trial):
    with trial.app.app_context():
        subject_id = sorted(set(expected_gains()) - {trial.renamed[0], trial.retyped[0]})[-1]
        assert _open_pair_findings(subject_id) == set()
        iv_uptake = int(stored_rows("PETIV", "PET")[subject_id][1]["UPTKMIN"])
        hours, minutes = map(int, stored_rows("PETIAH", "PET")[subject_id][1]["INJTIM"].split(":"))
        late_minutes = hours * 60 + minutes + iv_uptake + 11  # a morning PET: the same day
        late = f"{late_minutes // 60:02d}:{late_minutes % 60:02d}"
        _save_pet(
            subject_id,
            "PETIAH",
            {"SCANNER": "Mediso AnyScan PC", "ACQTIM": late},
            "Corrected from the PET report",
        )
        # 11 min more uptake than on the PET-IV, and another scanner: two questions.
        assert _open_pair_findings(subject_id) == {
            "SAME_SCANNER_AS_PETIV",
            "SAME_UPTKMIN_AS_PETIV",
        }
        # The PET-IV turns out to have been acquired on that scanner: the finding closes.
        _save_pet(subject_id, "PETIV", {"SCANNER": " mediso anyscan pc"}, "Corrected")
        assert _open_pair_findings(subject_id) == {"SAME_UPTKMIN_AS_PETIV"}


def test_identifiers_pair_without_regard_to_case(trial):
    subject_id, lower = trial.retyped
    (subject,) = report(trial, subject=subject_id).subjects
    (lesion,) = [le for le in subject.index.lesions if le.identifier == lower]
    assert lesion.paired and lesion.gain is not None
    assert not subject.index.unpaired


def test_a_subject_without_the_iah_pet_has_every_lesion_unpaired(trial):
    built = report(trial)
    waiting = [s for s in built.subjects if not s.tested.present]
    for subject in waiting:
        assert subject.index.lesions, subject.identifier
        assert all(le.on_reference and not le.on_tested for le in subject.index.lesions)
        assert subject.summary.count == 0
    assert built.subjects and all(s.reference.present or s.tested.present for s in built.subjects)


def test_the_paired_plot_has_one_line_per_paired_lesion(trial):
    built = report(trial)
    context = imaging_context(built, page={})
    study_plot = str(context["plot"])
    assert study_plot.startswith("<svg") and study_plot.count("<g class=") == built.lesions.count
    assert 'role="img"' in study_plot and "<title id=" in study_plot
    assert "style=" not in study_plot  # the web page's CSP forbids inline styles
    for data, subject in zip(context["subjects"], built.subjects, strict=True):
        if subject.summary.count:
            assert str(data["plot"]).count("<g class=") == subject.summary.count
        else:
            assert data["plot"] is None


# --- the PDF and the command --------------------------------------------------------------------


def run_report(trial, *args: str):
    return trial.app.test_cli_runner().invoke(args=["report", "imaging", *args])


def test_the_pdf_reads_back_with_every_subject_and_lesion_as_pdf_a_3b(trial, tmp_path):
    out = tmp_path / "imaging.pdf"
    result = run_report(trial, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out} (All sites;" in result.output
    built = report(trial)
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    pages = page_texts(out)
    assert len(pages) == len(reader.pages)
    text = "\n".join(pages)
    for subject in built.subjects:
        assert subject.identifier in text
    assert RENAMED in text and "only on IAH" in text and "only on IV" in text
    assert "Segment VIII" in text or "Segment VII" in text
    assert f"{built.lesions.median:.2f}" in text and "–" in text  # the range's en dash
    # A summary page (portrait), then one landscape page at least per subject.
    assert len(reader.pages) >= len(built.subjects) + 1
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    assert sizes[0][0] < sizes[0][1] and sum(1 for w, h in sizes if w > h) >= len(built.subjects)
    metadata = reader.xmp_metadata
    assert (metadata.pdfaid_part, metadata.pdfaid_conformance) == ("3", "B")
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    assert reader.metadata.title == "Imaging report"
    assert f"Page 1 of {len(reader.pages)}" in text


def test_the_pdf_is_recorded_in_the_audit_trail(trial, tmp_path):
    subject_id, _ = trial.renamed
    result = run_report(trial, "--subject", subject_id, "--out", str(tmp_path / "one.pdf"))
    assert result.exit_code == 0, result.output
    with trial.app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "report").order_by(AuditEvent.seq)
        ).all()[-1]
        site = db.session.scalar(sa.select(Site).where(Site.code == subject_id[:3]))
    assert (event.entity, event.entity_id, event.site_id) == ("report", "imaging", site.id)
    assert f'"subjects": ["{subject_id}"]' in event.new
    verify = trial.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_one_site_and_one_subject_from_the_command(trial, tmp_path):
    result = run_report(trial, "--site", "tls", "--out", str(tmp_path / "tls.pdf"))
    assert result.exit_code == 0, result.output
    assert "(Site TLS;" in result.output
    text = "".join(page_texts(tmp_path / "tls.pdf"))
    identifiers = set(re.findall(r"\b[A-Z]{3}-\d{3}\b", text))
    assert identifiers and all(i.startswith("TLS-") for i in identifiers)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subject", "BDX-999"], "No subject BDX-999."),
        (["--site", "XYZ"], "There is no site XYZ."),
        (
            ["--subject", "BDX-001", "--site", "TLS"],
            "Subject BDX-001 is not a subject of site TLS.",
        ),
    ],
)
def test_the_command_refuses_unknown_subjects_and_sites_plainly(trial, tmp_path, args, message):
    # The command in this process: a refusal needs no process of its own; it is a message on
    # stderr and exit code 1, never an exception escaping the command.
    out = tmp_path / "never.pdf"
    result = run_report(trial, *args, "--out", str(out))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_the_command_refuses_a_folder_as_out(trial, tmp_path):
    result = run_report(trial, "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "is a folder" in result.output


def test_the_installed_command_writes_the_report(trial, tmp_path):
    subject_id, _ = trial.renamed
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECRF_", "FLASK_"))}
    env |= {
        "ECRF_INSTANCE_PATH": str(tmp_path / "instance"),
        "ECRF_DATABASE_URL": trial.url,
        "ECRF_SECRET_KEY": "test secret key",
        "ECRF_AUDIT_KEY": "test audit key",
        "ECRF_STUDY_DEFINITION": "forms.iahprrt:STUDY",
        "ECRF_STRICT_RULES": "true",
    }
    out = tmp_path / "subject.pdf"
    done = subprocess.run(
        [ECRF, "report", "imaging", "--subject", subject_id, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {out} (Subject {subject_id}")
    assert PdfReader(out).xmp_metadata.pdfaid_part == "3"


def test_a_study_without_an_imaging_plan_says_so(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["report", "imaging", "--out", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 1
    assert "This study declares no imaging report" in result.output


# --- the web page ---------------------------------------------------------------------------------


def subject_ids(html: str) -> set[str]:
    return set(re.findall(r'id="subject-([A-Z]{3}-\d{3})"', html))


def test_a_monitor_reads_every_site_and_downloads_the_pdf(trial):
    client = login(trial, "monitor")
    page = client.get("/reports/imaging")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    built = report(trial)
    with trial.app.app_context():
        scanned = set(stored_rows("PETIV", "PET")) | set(stored_rows("PETIAH", "PET"))
    assert subject_ids(html) == {s.identifier for s in built.subjects} == scanned
    assert len({i[:3] for i in scanned}) > 1
    assert html.count('<g class="line') >= built.lesions.count
    assert 'href="/reports/imaging.pdf"' in html
    assert "style=" not in html.split("<main>")[1]
    one = client.get("/reports/imaging?site=tls")
    assert {i[:3] for i in subject_ids(one.get_data(as_text=True))} == {"TLS"}
    assert 'href="/reports/imaging.pdf?site=TLS"' in one.get_data(as_text=True)
    pdf = client.get("/reports/imaging.pdf?site=TLS")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert 'filename="imaging-report-TLS-' in pdf.headers["Content-Disposition"]
    assert PdfReader(io.BytesIO(pdf.data)).xmp_metadata.pdfaid_conformance == "B"
    with trial.app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "report").order_by(AuditEvent.seq)
        ).all()[-1]
    assert event.actor == "monitor" and '"scope": "Site TLS"' in event.new


def test_an_investigator_reads_own_site_only_and_others_answer_like_missing(trial):
    client = login(trial, "investigator.bdx")
    page = client.get("/reports/imaging")
    assert page.status_code == 200
    shown = subject_ids(page.get_data(as_text=True))
    assert shown and all(i.startswith("BDX-") for i in shown)
    own = sorted(shown)[0]
    assert client.get(f"/reports/imaging?subject={own}").status_code == 200
    other = client.get("/reports/imaging?subject=TLS-001")
    missing = client.get("/reports/imaging?subject=TLS-999")
    assert other.status_code == missing.status_code == 404
    assert masked(other.data) == masked(missing.data)
    assert client.get("/reports/imaging.pdf?subject=TLS-001").status_code == 404
    refused = client.get("/reports/imaging?site=TLS")
    assert refused.status_code == 403
    assert b"download reports at site TLS" in refused.data


@pytest.mark.parametrize("username", ["staff.bdx", "sponsor", "admin"])
def test_other_roles_are_refused(trial, username):
    client = login(trial, username)
    for path in ("/reports/imaging", "/reports/imaging.pdf"):
        response = client.get(path)
        assert response.status_code == 403
        assert b"Not allowed" in response.data
    assert b"Imaging report" not in client.get("/reports/").data


def test_the_reports_page_offers_the_imaging_report_to_readers_of_reports(trial):
    page = login(trial, "datamanager").get("/reports/").get_data(as_text=True)
    assert "Imaging report" in page and 'href="/reports/imaging"' in page


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("site=XYZ", 422, b"There is no site XYZ."),
        ("site=%3Cscript%3E", 422, b"There is no site &lt;SCRIPT&gt;."),
        ("subject=" + "x" * 5000, 404, b"There is no such page."),
        ("subject=BDX-001&site=TLS", 422, b"Subject BDX-001 is not a subject of site TLS."),
        ("subject=%F0%9F%99%82", 404, b"There is no such page."),
    ],
)
def test_junk_parameters_get_a_clear_answer(trial, query, status, message):
    client = login(trial, "monitor")
    for path in ("/reports/imaging", "/reports/imaging.pdf"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == status, (path, query)
        assert message in response.data
        assert b"<script>" not in response.data.lower()


def test_the_page_and_the_pdf_are_not_found_where_the_study_declares_no_plan(
    client, auth, create_site, create_user
):
    from ecrf.auth.roles import Role

    create_site("BDX")
    create_user("mon", Role.MONITOR, "BDX")
    auth.login("mon")
    for path in ("/reports/imaging", "/reports/imaging.pdf"):
        assert client.get(path).status_code == 404
    assert b"Imaging report" not in client.get("/reports/").data
