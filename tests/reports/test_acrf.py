"""The blank annotated CRF: its data from the definition, the PDF read back (text, pages,
PDF/A-3b, bookmarks), the download for every signed-in user and the operator's command."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader

from ecrf.demo import seed_demo
from ecrf.extensions import db
from ecrf.records.loader import current_study, import_study, load_study
from ecrf.reporting import acrf_words
from ecrf.reporting.acrf import acrf_data
from ecrf.reporting.acrf_pdf import CACHE_FOLDER
from tests.reports.pdf_text import page_texts, pdf_words, words
from tests.seeded_trial import dispose, trial_app

ECRF = str(Path(sys.executable).with_name("ecrf"))
#: A rendering of the whole trial takes tens of seconds of CPU; on a busy machine, more.
RENDER_TIMEOUT = 600
#: How often the tests ask again (the waiting page itself refreshes every 10 s).
POLL_SECONDS = 0.2


@dataclass
class Trial:
    app: Flask
    passwords: dict[str, str]


@dataclass
class Download:
    #: The first answer: the rendering started in the background.
    waiting: str
    waiting_status: int
    pdf: bytes
    reader: PdfReader
    #: The text of each page (pdftotext), and all of it with white space collapsed.
    pages: list[str]
    text: str


def sign_in(client, username: str, password: str) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.data[:500]


def wait_for_pdf(client, url: str = "/reports/acrf.pdf"):
    """Ask again, as the waiting page does, until the PDF comes (or the time is up)."""
    deadline = time.monotonic() + RENDER_TIMEOUT
    while time.monotonic() < deadline:
        response = client.get(url)
        if response.mimetype == "application/pdf":
            return response
        assert response.status_code == 200, response.data[:500]
        time.sleep(POLL_SECONDS)
    raise AssertionError("the annotated CRF was not rendered in time")


@pytest.fixture(scope="module")
def trial(databases, tmp_path_factory) -> Iterator[Trial]:
    """The IAH-PRRT definition, the demo sites and accounts, no patient (none is needed)."""
    from flask_migrate import upgrade

    app = trial_app(databases)
    app.instance_path = str(tmp_path_factory.mktemp("acrf-instance"))
    with app.app_context():
        upgrade()
        passwords = {account.username: account.password for account in seed_demo()}
        db.session.commit()
    yield Trial(app, passwords)
    dispose(app)


@pytest.fixture(scope="module")
def download(trial) -> Download:
    client = trial.app.test_client()
    sign_in(client, "staff.bdx", trial.passwords["staff.bdx"])
    first = client.get("/reports/acrf.pdf")
    pdf = wait_for_pdf(client).data
    pages = page_texts(pdf)
    text = " ".join(words(page) for page in pages)
    reader = PdfReader(io.BytesIO(pdf))
    return Download(first.get_data(as_text=True), first.status_code, pdf, reader, pages, text)


# --- the data -------------------------------------------------------------------------------


def test_sdtm_annotations_read_as_a_cdisc_acrf_writes_them():
    words = acrf_words.sdtm_words
    assert words("LB.LBORRES[HGB]")["text"] == "LBORRES when LBTESTCD = HGB"
    assert words("LB.LBORRES[HGB]")["dataset"] == "LB"
    assert words("SUPPAE.QVAL[AERELPR]")["text"] == "QVAL when QNAM = AERELPR"
    assert words("MH.MHSTDTC[PRIMARY DIAGNOSIS]")["text"] == (
        "MHSTDTC when MHCAT = PRIMARY DIAGNOSIS"
    )
    assert words("DM.SEX") == {"dataset": "DM", "text": "SEX", "raw": "DM.SEX"}
    assert words(None) is None
    assert acrf_words.domain_name("SUPPAE") == "Supplemental Qualifiers for AE"


def test_the_mini_definition_gives_every_visit_form_item_and_rule_in_words(app):
    with app.app_context():
        acrf = acrf_data(current_study())
    assert [v["oid"] for v in acrf["schedule"]] == ["SCR", "BASE", "TX", "FU", "UNS", "LOGS"]
    screening = acrf["schedule"][0]
    assert screening["day"] == "Day \u221214 from D0"
    assert screening["window"] == "\u221221 to \u22127"
    # Every form once, at the first visit using it; a form used again lists every visit.
    printed = [f["oid"] for part in acrf["parts"] for f in part["forms"]]
    assert printed == ["ENR", "DM", "LB", "LES", "AE"]
    forms = {f["oid"]: f for part in acrf["parts"] for f in part["forms"]}
    assert [v["oid"] for v in forms["LB"]["used_at"]] == ["SCR", "TX", "FU", "UNS"]
    items = {i["oid"]: i for g in forms["DM"]["groups"] for i in g["items"]}
    assert items["PREG"]["rules"] == ["Asked, and then required, only when “Sex” is Female (F)."]
    assert items["WEIGHT"]["hard"] == "Refused outside 20 to 300 kg"
    assert items["WEIGHT"]["soft"] == "Warning outside 40 to 150 kg"
    assert items["WEIGHT"]["type_words"] == "Decimal number, 1 decimal"
    assert items["NOTE"]["missing"] == acrf_words.NO_MISSING_CODE
    assert items["SEX"]["sdtm"]["text"] == "SEX"
    assert [c["code"] for c in items["SEX"]["codelist"]["codes"]] == ["M", "F"]
    assert items["AGE"]["derived"] == {
        "formula": "whole years from birth month to the date of consent",
        "inputs": ["Birth month", "Date of consent (Enrolment, Screening)"],
    }
    lesions = next(g for g in forms["LES"]["groups"] if g["oid"] == "LESION")
    assert lesions["repeating"] and lesions["max_rows"] == 5 and lesions["domain"] == "TR"
    (check,) = forms["LB"]["checks"]
    assert check["target"] == {"oid": "HGB", "label": "Haemoglobin"}
    assert check["inputs"] == ["Haemoglobin", "every row of Adverse events (Adverse events, Logs)"]
    assert check["severity"] == "warn"
    codelists = {c["oid"]: c for c in acrf["codelists"]}
    assert {"SEX", "ORGAN", "SYMPT", "NY"} <= set(codelists)
    assert {"form": "DM", "form_name": "Demographics", "item": "SEX", "label": "Sex"} in (
        codelists["SEX"]["used_by"]
    )


def test_the_trial_checks_are_all_in_words():
    """The trial's plan and definition say every check's rule, or the message it shows."""
    from forms.iahprrt.reports import ACRF

    study = load_study(import_study("forms.iahprrt:STUDY"))  # no application needed
    acrf = acrf_data(study, ACRF.check_words)
    checks = [c for part in acrf["parts"] for f in part["forms"] for c in f["checks"]]
    assert len(checks) == sum(len(f.checks) for f in study.study.forms)
    unnamed = [c["name"] for c in checks if c["rule"].rstrip(".").lower() == _spelled(c["name"])]
    assert unnamed == []
    assert all(c["rule"] or c["message"] for c in checks)


def _spelled(name: str) -> str:
    return name.replace("_", " ").lower()


# --- the PDF --------------------------------------------------------------------------------


def test_the_first_download_starts_the_rendering_and_says_so(download):
    assert download.waiting_status == 200
    assert "Being prepared" in download.waiting
    assert '<meta http-equiv="refresh" content="10">' in download.waiting


def test_every_form_and_item_oid_of_the_trial_is_in_the_pdf(trial, download):
    with trial.app.app_context():
        study = current_study()
    text = download.text
    missing_forms = [f.name for f in study.study.forms if " ".join(f.name.split()) not in text]
    assert missing_forms == []
    oids = {item.oid for form in study.study.forms for _, item in form.items()}
    words = set(re.findall(r"[A-Z0-9_]+", text))
    assert sorted(oids - words) == []
    assert "Screening / inclusion" in text and "Month 6 end of study" in text


def test_code_list_decodes_and_annotations_are_in_the_pdf(trial, download):
    with trial.app.app_context():
        study = current_study()
    text = download.text
    missing = [
        (codelist.oid, code, label)
        for codelist in study.study.codelists
        for code, label in codelist.codes
        if " ".join(label.split()) not in text
    ]
    assert missing == []
    assert "LBORRES when LBTESTCD = HGB" in text
    assert "CDASH LBORRES" in text
    assert "Refused outside 3 to 25 g/dL" in text and "Warning outside 12 to 17 g/dL" in text
    # French accents, units and signs come through as text.
    for sample in ("µmol/L", "/mm3", "≥", "LUTATHERA®", "Couinaud"):
        assert sample in text, sample


def test_the_pdf_is_archival_with_a_plausible_page_count_and_bookmarks(trial, download):
    reader = download.reader
    pages = len(reader.pages)
    assert len(download.pages) == pages  # pypdf and poppler read the same document
    with trial.app.app_context():
        study = current_study()
    # At least a page per form; not a page per item.
    assert len(study.study.forms) + 5 < pages < 250
    raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", raw)
    assert re.search(r"pdfaid:conformance(>|=\")B", raw)
    (intent,) = reader.trailer["/Root"]["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"
    titles = []

    def walk(outline):
        for entry in outline:
            if isinstance(entry, list):
                walk(entry)
            else:
                titles.append(" ".join(entry.title.split()))

    walk(reader.outline)
    assert "Schedule of visits" in titles and "Code lists" in titles
    assert any(t.startswith("Screening / inclusion") for t in titles)
    assert "Biochemistry" in titles and "Adverse events" in titles


def test_the_pages_carry_the_study_the_kind_of_document_and_the_version(download):
    first = words(download.pages[10])
    assert "IAH-PRRT (LUTARTERIAL) · Annotated CRF (blank) · study definition 1.6" in first
    assert re.search(r"Page 11 of \d+", first)


# --- the download ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username",
    ["staff.bdx", "investigator.bdx", "staff.tls", "monitor", "datamanager", "sponsor", "admin"],
)
def test_every_signed_in_user_downloads_the_same_file(trial, download, username):
    client = trial.app.test_client()
    sign_in(client, username, trial.passwords[username])
    response = client.get("/reports/acrf.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == ("attachment; filename=aCRF-IAHPRRT-1.6.pdf")
    assert response.data == download.pdf


def test_signed_out_visitors_are_sent_to_sign_in(trial):
    response = trial.app.test_client().get("/reports/acrf.pdf")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_reports_page_offers_the_acrf_to_every_role(trial):
    for username in ("staff.bdx", "sponsor", "admin"):
        client = trial.app.test_client()
        sign_in(client, username, trial.passwords[username])
        page = client.get("/reports/").get_data(as_text=True)
        assert "Annotated CRF (blank)" in page
        assert 'href="/reports/acrf.pdf"' in page


def test_the_mini_study_gets_its_own_acrf_and_older_files_are_removed(
    app, client, auth, create_user, tmp_path
):
    app.instance_path = str(tmp_path)
    folder = tmp_path / CACHE_FOLDER
    folder.mkdir()
    earlier = folder / "acrf-000000000000-0000000000000000.pdf"
    earlier.write_bytes(b"%PDF- an earlier definition's")
    create_user("nurse")  # no role at all: the blank form holds no clinical data
    auth.login("nurse")
    text = pdf_words(wait_for_pdf(client).data)
    for name in ("Enrolment", "Demographics", "Haematology", "PET lesions", "Adverse events"):
        assert name in text
    for oid in ("ENRDAT", "BRTHYM", "HGB", "SUVMEAN", "AESDTH", "TLR"):
        assert oid in text
    assert "Flushing" in text and "Lymph node" in text
    assert "Mini study · Annotated CRF (blank) · study definition 1.0" in text
    # The rendering thread tidies up once the file is in place.
    deadline = time.monotonic() + 10
    while earlier.exists() or len(list(folder.iterdir())) > 1:
        assert time.monotonic() < deadline, sorted(p.name for p in folder.iterdir())
        time.sleep(0.1)


def test_a_stale_rendering_lock_is_taken_over(app, tmp_path):
    from ecrf.reporting import acrf_pdf

    lock = tmp_path / "acrf.rendering"
    lock.touch()
    assert acrf_pdf._take(lock) is False  # someone is rendering
    old = time.time() - acrf_pdf.STALE_SECONDS - 1
    os.utime(lock, (old, old))
    assert acrf_pdf._take(lock) is True  # they died: this process renders


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def mini_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECRF_", "FLASK_"))}
    env["ECRF_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["ECRF_STUDY_DEFINITION"] = "tests.definitions.mini:STUDY"
    env["ECRF_STRICT_RULES"] = "true"
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")])
    return env


def test_the_operator_writes_the_acrf_and_is_told_where_and_how_many_pages(mini_env, tmp_path):
    out = tmp_path / "acrf.pdf"
    result = subprocess.run(
        [ECRF, "report", "acrf", "--out", str(out)],
        env=mini_env,
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    reader = PdfReader(out)
    assert f"Wrote {out}: the annotated CRF of study definition 1.0," in result.stdout
    assert f" {len(reader.pages)} pages, in " in result.stdout
    text = pdf_words(out)
    assert "PET lesions" in text and "SUVMEAN" in text


@pytest.mark.parametrize("where", ["missing-folder/acrf.pdf", "a-file/acrf.pdf"])
def test_an_unwritable_destination_is_a_clear_message_and_a_failure(app, tmp_path, where):
    # The command in this process (the mini study's app): a refusal needs no process of its
    # own; it is a message and exit code 1, never an exception escaping the command.
    app.instance_path = str(tmp_path / "instance")
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / where
    result = app.test_cli_runner().invoke(args=["report", "acrf", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert f"Error: Cannot write {out}: there is no folder {out.parent}." in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
