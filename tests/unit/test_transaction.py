"""One transaction per request and per command: ``ecrf.transaction`` commits or rolls back,
and nothing that serves a request or a command does it by hand."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from wtforms import StringField

from ecrf import transaction
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.models import Site
from ecrf.web_forms import BaseForm

ECRF = Path(__file__).resolve().parents[2] / "ecrf"

#: The only modules that may commit or roll back themselves, and why.
OWN_TRANSACTIONS = {
    "transaction.py": "the idiom itself",
    "errors.py": "the error handlers roll back what reaches them",
    "api/views.py": "the API's JSON error handler rolls back what reaches it",
    "resume/web.py": "keeps a form posted after the session ended, before the sign-in redirect",
    "jobs/services.py": "a job commits its progress and outcome as it runs, outside any request",
    "jobs/backends.py": "the worker's job runner",
    "reporting/casebook_jobs.py": "a casebook job commits as it runs, outside any request",
    "demo_data.py": "the demo commits patient by patient, so a stopped seeding keeps its work",
    "exports/csv_bundle.py": "an extract commits its audit event before checkpointing the trail",
    "exports/odm/writer.py": "an extract commits its audit event before checkpointing the trail",
    "exports/sdtm/service.py": "an extract commits its audit event before checkpointing the trail",
    "exports/audit_trail.py": "an extract commits its audit event before checkpointing the trail",
}


def _sites() -> set[str]:
    return set(db.session.scalars(sa.select(Site.code)))


def test_perform_commits_what_the_action_wrote(app_ctx):
    transaction.perform(lambda: db.session.add(Site(code="AAA", name="A")))
    db.session.remove()  # a new session sees only what was committed
    assert "AAA" in _sites()


def test_perform_rolls_back_and_re_raises_when_the_action_raises(app_ctx):
    def fails():
        db.session.add(Site(code="BBB", name="B"))
        db.session.flush()
        raise RuleViolation("refused")

    with pytest.raises(RuleViolation):
        transaction.perform(fails)
    assert "BBB" not in _sites()


class NameForm(BaseForm):
    name = StringField()


@pytest.mark.parametrize(
    ("field", "at_field"), [("name", True), ("elsewhere", False), (None, False)]
)
def test_submit_shows_a_refusal_at_its_field_and_keeps_nothing(app, field, at_field):
    with app.test_request_context(method="POST", data={"name": "x"}):
        app.config["WTF_CSRF_ENABLED"] = False
        form = NameForm()

        def refused():
            db.session.add(Site(code="CCC", name="C"))
            db.session.flush()
            raise RuleViolation("Not like this.", field=field)

        assert transaction.submit(form, refused) is False
        assert (form.name.errors == ["Not like this."]) is at_field
        assert (form.form_errors == ["Not like this."]) is not at_field
        assert "CCC" not in _sites()


@pytest.mark.parametrize("refusal", [PermissionDenied, NotFound])
def test_submit_lets_403_and_404_through_to_their_pages(app, refusal):
    with app.test_request_context(method="POST", data={"name": "x"}):
        app.config["WTF_CSRF_ENABLED"] = False

        def refused():
            raise refusal("no")

        with pytest.raises(refusal):
            transaction.submit(NameForm(), refused)


def test_command_ends_a_refused_command_with_its_message(app_ctx):
    def refused():
        db.session.add(Site(code="DDD", name="D"))
        db.session.flush()
        raise RuleViolation("Use capitals.", field="code")

    with pytest.raises(click.ClickException, match=r"^Use capitals\.$"):
        transaction.command(refused)
    with pytest.raises(click.ClickException, match=r"^code: Use capitals\.$"):
        transaction.command(refused, with_field=True)
    assert "DDD" not in _sites()


def test_no_view_form_or_command_commits_or_rolls_back_by_hand():
    pattern = re.compile(r"\bdb\.session\.(commit|rollback)\(")
    offenders = sorted(
        str(path.relative_to(ECRF))
        for path in ECRF.rglob("*.py")
        if pattern.search(path.read_text()) and str(path.relative_to(ECRF)) not in OWN_TRANSACTIONS
    )
    assert offenders == []
    # Every exception still needs its reason: one that no longer commits leaves the list.
    stale = sorted(
        name for name in OWN_TRANSACTIONS if not pattern.search((ECRF / name).read_text())
    )
    assert stale == []
