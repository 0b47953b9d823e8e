"""The ODM writer's bytes are those of the lxml tree writer it replaced
(``tests/exports/odm_reference.py``): every scope, free text withheld or not, and values,
reasons and deviations holding what XML must escape."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
import sqlalchemy as sa

from ecrf.exports.odm import writer
from ecrf.exports.odm.writer import subject_odm, write_snapshot
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import ItemGroupRow, ItemValue, Site, Subject, SubjectVisit
from tests.exports import odm_reference
from tests.exports.odm_checks import check_odm

#: What XML escapes in attributes and text, with characters beyond ASCII.
AWKWARD = "a <b> & \"c\" 'd'\n\te\r – µmol/L 😀"

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture(scope="module")
def awkward(seeded):
    """The module's trial with awkward text in values and deviations, an out-of-window
    visit, an empty value, and a row whose values were all cleared."""
    with seeded.app.app_context():
        texts = db.session.scalars(
            sa.select(ItemValue.id)
            .where(ItemValue.value_text.is_not(None), ItemValue.missing_code.is_(None))
            .order_by(ItemValue.id)
        ).all()
        for n, value_id in enumerate(texts[::97][:8]):
            text = AWKWARD if n % 2 == 0 else ""
            db.session.execute(
                sa.update(ItemValue).where(ItemValue.id == value_id).values(value_text=text)
            )
        visits = db.session.scalars(
            sa.select(SubjectVisit.id)
            .where(SubjectVisit.visit_date.is_not(None))
            .order_by(SubjectVisit.id)
        ).all()
        db.session.execute(
            sa.update(SubjectVisit)
            .where(SubjectVisit.id.in_(visits[1::5]))
            .values(out_of_window=True, deviation_reason=AWKWARD)
        )
        row = db.session.scalars(
            sa.select(ItemGroupRow.id)
            .where(ItemGroupRow.removed.is_(False))
            .order_by(ItemGroupRow.id)
        ).all()[3]
        db.session.execute(
            sa.update(ItemValue)
            .where(ItemValue.row_id == row)
            .values(value_text=None, missing_code=None)
        )
        db.session.commit()
    return seeded


def _both(monkeypatch, **kwargs) -> tuple[bytes, bytes]:
    monkeypatch.setattr(writer, "utcnow", lambda: NOW)
    monkeypatch.setattr(odm_reference, "utcnow", lambda: NOW)
    study = current_study()
    written, expected = BytesIO(), BytesIO()
    counts = write_snapshot(study, written, **kwargs)
    assert counts == odm_reference.write_snapshot(study, expected, **kwargs)
    return written.getvalue(), expected.getvalue()


@pytest.mark.parametrize("withhold", [False, True])
def test_every_site_is_written_as_the_tree_writer_wrote_it(awkward, monkeypatch, withhold):
    with awkward.app.app_context():
        written, expected = _both(monkeypatch, site_ids=None, withhold=withhold)
    assert written == expected
    # Not vacuous: the awkward text (escaped as an attribute and as text), the empty
    # value and the missing-data codes are in the file.
    assert b'Value=""' in written and b'IsNull="Yes"' in written
    text = "&lt;b&gt; &amp; \"c\" 'd'\n\te&#13; – µmol/L 😀</Comment>".encode()
    if withhold:
        assert b"<Comment" not in written and b"<ReasonForChange" not in written
    else:
        assert text in written and b"<ReasonForChange" in written
        assert "&lt;b&gt; &amp; &quot;c&quot; 'd'&#10;&#9;e&#13; – µmol".encode() in written


def test_one_site_and_one_subject_are_written_as_the_tree_writer_wrote_them(
    awkward, monkeypatch, tmp_path
):
    with awkward.app.app_context():
        bdx = db.session.scalar(sa.select(Site.id).where(Site.code == "BDX"))
        written, expected = _both(monkeypatch, site_ids=[bdx], withhold=False)
        assert written == expected and b"SubjectKey=" in written
        subject = db.session.scalars(sa.select(Subject).order_by(Subject.id)).first()
        one = subject_odm(current_study(), subject.identifier, subject.site_id, withhold=False)
        buffer = BytesIO()
        odm_reference.write_snapshot(
            current_study(),
            buffer,
            site_ids=[subject.site_id],
            withhold=False,
            subject=subject.identifier,
        )
    assert one == buffer.getvalue() and one.count(b"<SubjectData ") == 1
    (tmp_path / "one.xml").write_bytes(one)
    check_odm(tmp_path / "one.xml")


def test_a_file_of_no_subject_is_written_as_the_tree_writer_wrote_it(awkward, monkeypatch):
    with awkward.app.app_context():
        written, expected = _both(monkeypatch, site_ids=[-1], withhold=False)
    assert written == expected and b"<SubjectData" not in written
