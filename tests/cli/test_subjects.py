"""`ecrf subjects list`: one subject a line, identifier first, then status."""

from __future__ import annotations

from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import SubjectStatus
from ecrf.records.sites import get_site
from ecrf.study import subjects


def register(app, code: str, n: int) -> None:
    with app.app_context():
        site = get_site(code)
        for _ in range(n):
            subjects.register_subject(site, actor=None)
        db.session.commit()


def test_lists_every_subject_identifier_first_then_status(app, runner, create_site):
    create_site("BDX")
    create_site("TLS")
    register(app, "BDX", 2)
    register(app, "TLS", 1)
    with app.app_context():
        subjects.change_status(
            current_study(),
            subjects.get_subject("BDX-002"),
            SubjectStatus.SCREEN_FAILURE,
            actor=None,
            reason="ECOG 3",
        )
        db.session.commit()
    result = runner.invoke(args=["subjects", "list"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "BDX-001\tscreening\tBDX",
        "BDX-002\tscreen_failure\tBDX",
        "TLS-001\tscreening\tTLS",
    ]


def test_site_filter_and_unknown_site(app, runner, create_site):
    create_site("BDX")
    create_site("TLS")
    register(app, "BDX", 1)
    register(app, "TLS", 2)
    result = runner.invoke(args=["subjects", "list", "--site", "tls"])
    assert [line.split("\t")[0] for line in result.output.splitlines()] == ["TLS-001", "TLS-002"]
    unknown = runner.invoke(args=["subjects", "list", "--site", "XXX"])
    assert unknown.exit_code == 1 and "No site with code 'XXX'" in unknown.output
