"""`ecrf export audit`: the whole trail or one site's events, one row per event, audited."""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth import services as auth_services
from ecrf.errors import PermissionDenied
from ecrf.exports.audit_trail import COLUMNS, write_audit_trail
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.models import Site


def _rows(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _events(where=()):
    return (
        db.session.execute(sa.select(AuditEvent).where(*where).order_by(AuditEvent.seq))
        .scalars()
        .all()
    )


def test_the_whole_trail_is_written_one_row_per_event_and_the_export_is_audited(seeded, tmp_path):
    out = tmp_path / "trail.csv"
    with seeded.app.app_context():
        before = _events()
    result = seeded.app.test_cli_runner().invoke(args=["export", "audit", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote the audit trail (all sites)" in result.output

    rows = _rows(out)
    assert tuple(rows[0].keys()) == COLUMNS
    assert [int(row["seq"]) for row in rows] == [event.seq for event in before]
    # Every event's content, as stored, including an item value change with its old value.
    for row, event in zip(rows, before, strict=True):
        assert row["action"] == event.action
        assert row["actor"] == event.actor
        assert row["entity_id"] == (event.entity_id or "")
        assert row["old"] == (event.old or "") and row["new"] == (event.new or "")
        assert row["at_utc"] == event.at.isoformat(timespec="microseconds")
        assert row["at_utc"].endswith("+00:00")
    assert any(row["definition_version"] for row in rows)
    assert {row["site"] for row in rows} >= set(seeded.sites) | {""}

    with seeded.app.app_context():
        last = _events()[-1]
        assert (last.action, last.entity, last.entity_id) == ("export", "extract", "audit")
        assert last.actor.startswith("cli:")
        assert last.new == f"{len(before)} events; sites: all"


def test_one_sites_events_only(seeded, tmp_path):
    out = tmp_path / "tls.csv"
    result = seeded.app.test_cli_runner().invoke(
        args=["export", "audit", "--out", str(out), "--site", "tls"]
    )
    assert result.exit_code == 0, result.output
    with seeded.app.app_context():
        tls = db.session.scalar(sa.select(Site.id).where(Site.code == "TLS"))
        expected = [event.seq for event in _events([AuditEvent.site_id == tls])][:-1]
    rows = _rows(out)
    assert rows and {row["site"] for row in rows} == {"TLS"}
    assert [int(row["seq"]) for row in rows] == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "NOPE"], "There is no site NOPE."),
        (["--site", ""], None),
    ],
)
def test_bad_input_is_refused_with_nothing_written(seeded, tmp_path, args, message):
    out = tmp_path / "bad.csv"
    result = seeded.app.test_cli_runner().invoke(args=["export", "audit", "--out", str(out), *args])
    if message is None:  # an empty --site means every site, as without the option
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_a_folder_given_as_the_file_is_refused(seeded, tmp_path):
    result = seeded.app.test_cli_runner().invoke(args=["export", "audit", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a folder" in result.output


def test_the_sponsor_is_refused_the_trail_which_holds_free_text(seeded, tmp_path):
    out = tmp_path / "sponsor.csv"
    with seeded.app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        with pytest.raises(PermissionDenied):
            write_audit_trail(out, site_ids=None, actor=auth_services.get_user("sponsor"))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == count
    assert not out.exists()


def test_the_trail_still_verifies_after_exports(seeded, tmp_path):
    runner = seeded.app.test_cli_runner()
    assert runner.invoke(args=["export", "audit", "--out", str(tmp_path / "a.csv")]).exit_code == 0
    with seeded.app.app_context():
        assert _events()[-1].action == "export"
        result = verify_trail()
        assert result.intact, [str(p) for p in result.problems.shown]
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
