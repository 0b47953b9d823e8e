"""The report renderer: PDF/A-3b with attachments, running header and page numbers, French
text, tables that repeat their header, and no resource but the package's own files."""

from __future__ import annotations

import gc
import io
import subprocess
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from reports import render
from reports.render import (
    RENDERING_FULL_COLLECTION_EVERY,
    Attachment,
    ForbiddenResource,
    fewer_full_collections,
    html_to_pdf,
    package_file,
    render_html,
    render_pdf,
)

PAGE = {
    "title": "Sample report",
    "header_left": "IAH-PRRT · BDX",
    "header_right": "BDX-001",
    "generated_at": datetime(2026, 11, 25, 10, 30, tzinfo=UTC),
    "generated_by": "monitor",
    "checkpoint": "0123456789abcdef0123456789abcdef",
}
ROWS = [{"number": n, "text": f"ligne {n} — créatinine ≥ 1,5 µmol/L"} for n in range(1, 121)]


@pytest.fixture(scope="module")
def sample() -> bytes:
    return render_pdf(
        "sample.html",
        {"page": PAGE, "heading": "Échantillon", "rows": ROWS},
        attachments=[Attachment("subject-odm.xml", b"<ODM/>", "The subject's data")],
        identifier=b"sample",
    )


def test_pages_carry_the_running_header_and_page_n_of_m(sample):
    reader = PdfReader(io.BytesIO(sample))
    pages = len(reader.pages)
    assert pages >= 3
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text
        assert "IAH-PRRT · BDX" in text and "BDX-001" in text
        assert "Generated 2026-11-25 10:30:00 UTC by monitor" in text
        assert "audit checkpoint 0123456789abcdef" in text
        # The table's header repeats on every page the table spans.
        assert "Row" in text and "Value" in text


def test_french_text_and_units_survive(sample):
    text = PdfReader(io.BytesIO(sample)).pages[0].extract_text()
    for word in ("Échantillon", "µmol/L", "10³/mm³", "≥ 1,5", "Île-de-France", "créatinine"):
        assert word in text, word


def test_archival_pdf_a3b_with_its_attachment(sample):
    reader = PdfReader(io.BytesIO(sample))
    xmp = reader.xmp_metadata
    assert xmp is not None
    xml = xmp.stream.get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xml or 'pdfaid:part="3"' in xml
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xml or 'conformance="B"' in xml
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert reader.attachments["subject-odm.xml"] == [b"<ODM/>"]


def test_the_same_data_give_the_same_bytes():
    context = {"page": PAGE, "heading": "Same", "rows": ROWS[:5]}
    first = render_pdf("sample.html", context, identifier=b"same")
    assert render_pdf("sample.html", context, identifier=b"same") == first


def test_pages_render_to_images(sample, tmp_path):
    pdf = tmp_path / "sample.pdf"
    pdf.write_bytes(sample)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) == len(PdfReader(io.BytesIO(sample)).pages)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.css",
        "https://example.org/logo.png",
        "file:///etc/passwd",
        "file:///etc/hostname",
        "data:text/css,body{}",
    ],
)
def test_the_fetcher_refuses_anything_but_the_package_files(url):
    with pytest.raises(ForbiddenResource):
        package_file(url)


def test_a_value_cannot_make_the_renderer_fetch_anything(tmp_path):
    # A stylesheet and an image named in a value are escaped text, and were they markup,
    # the fetcher would refuse them: the PDF renders without them, nothing is fetched.
    hostile = '<img src="file:///etc/passwd"><link rel="stylesheet" href="http://x/y.css">'
    html = render_html("sample.html", {"page": PAGE, "heading": hostile, "rows": []})
    assert "&lt;img" in html
    raw = html.replace("&lt;img", "<img").replace("&#34;", '"').replace("&gt;", ">")
    pdf = html_to_pdf(raw, variant=None)
    assert PdfReader(io.BytesIO(pdf)).pages


def test_full_collections_wait_while_a_report_renders_and_come_back_after(monkeypatch):
    before = gc.get_threshold()
    postponed = (*before[:2], RENDERING_FULL_COLLECTION_EVERY)
    seen = []

    def watched(url):  # the stylesheets are fetched in the middle of the rendering
        seen.append(gc.get_threshold())
        return package_file(url)

    monkeypatch.setattr(render, "package_file", watched)
    html_to_pdf(render_html("sample.html", {"page": PAGE, "heading": "x", "rows": []}))
    assert seen and set(seen) == {postponed}
    assert gc.get_threshold() == before


def test_overlapping_renderings_restore_the_thresholds_once_the_last_ends():
    before = gc.get_threshold()
    with fewer_full_collections():
        with fewer_full_collections():  # another thread's rendering
            assert gc.get_threshold()[2] == RENDERING_FULL_COLLECTION_EVERY
        assert gc.get_threshold()[2] == RENDERING_FULL_COLLECTION_EVERY
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), fewer_full_collections():
        raise RuntimeError("the rendering failed")
    assert gc.get_threshold() == before
