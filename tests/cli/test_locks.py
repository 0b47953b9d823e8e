"""`ecrf lock` and `ecrf unlock`: the database freeze from the command line, audited; an
unlock needs its reason; a site or a subject may be named instead."""

from __future__ import annotations

from ecrf.extensions import db
from ecrf.locks.services import study_lock


def test_the_operator_freezes_the_study_and_lifts_the_freeze_with_a_reason(
    app, runner, create_site, audit_actions
):
    create_site("BDX")
    result = runner.invoke(args=["lock", "--reason", "Final analysis"])
    assert result.exit_code == 0, result.output
    assert result.output == "Locked: the whole study (database freeze) (lock 1).\n"
    with app.app_context():
        assert study_lock() is not None
    again = runner.invoke(args=["lock"])
    assert again.exit_code == 1 and "Already locked: study is covered" in again.output
    no_reason = runner.invoke(args=["unlock", "--reason", "  "])
    assert no_reason.exit_code == 1 and "Say why the data are unlocked." in no_reason.output
    done = runner.invoke(args=["unlock", "--reason", "Analysis re-run with a corrected date"])
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert study_lock() is None
        db.session.remove()
    actions = [a for a in audit_actions() if a[0].startswith("data_")]
    assert actions == [
        ("data_locked", "1", "Final analysis"),
        ("data_unlocked", "1", "Analysis re-run with a corrected date"),
    ]
    missing = runner.invoke(args=["unlock", "--reason", "x"])
    assert missing.exit_code == 1 and "Not locked: the whole study" in missing.output


def test_a_site_or_a_subject_may_be_named(runner, create_site, create_subject):
    create_site("BDX")
    create_subject("BDX")
    assert runner.invoke(args=["lock", "--site", "bdx"]).output == "Locked: site BDX (lock 1).\n"
    result = runner.invoke(args=["lock", "--subject", "bdx-001"])
    assert result.exit_code == 1 and "covered by the lock of BDX" in result.output
    assert runner.invoke(args=["lock", "--site", "NOPE"]).exit_code == 1
    assert runner.invoke(args=["lock", "--site", "BDX", "--subject", "BDX-001"]).exit_code == 2
    assert runner.invoke(args=["unlock", "--site", "BDX", "--reason", "ok"]).exit_code == 0
    assert runner.invoke(args=["lock", "--subject", "BDX-001"]).exit_code == 0
