"""Personal access tokens: hashed, shown once, expiring, revocable, audited, reconciled."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ecrf.api import tokens
from ecrf.api.models import ApiToken
from ecrf.audit.models import AuditEvent
from ecrf.auth import services as auth_services
from ecrf.db import utcnow
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from tests.exports.api_helpers import bearer, issue_token, sign_in

TOKEN_PATTERN = re.compile(r"ecrf_[A-Za-z0-9_-]{43}")


def _token_row(app, value: str) -> ApiToken:
    with app.app_context():
        row = db.session.scalar(
            sa.select(ApiToken).where(
                ApiToken.token_hash == hashlib.sha256(value.encode()).hexdigest()
            )
        )
        db.session.expunge_all()
        return row


def test_only_the_sha256_of_the_token_is_stored(seeded):
    value = issue_token(seeded.app, "sponsor")
    assert TOKEN_PATTERN.fullmatch(value)
    row = _token_row(seeded.app, value)
    assert row is not None and row.hint == value[:9]
    with seeded.app.app_context():
        stored = db.session.execute(sa.text("SELECT * FROM api_token")).all()
    assert not any(value in str(cell) for line in stored for cell in line)


def test_a_valid_token_reads_and_its_use_is_noted(seeded):
    value = issue_token(seeded.app, "sponsor")
    response = seeded.app.test_client().get("/api/v1/me", headers=bearer(value))
    assert response.status_code == 200
    assert response.json["username"] == "sponsor"
    assert response.headers["Cache-Control"] == "no-store"
    assert _token_row(seeded.app, value).last_used_at is not None


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, "Send a personal access token"),
        ({"Authorization": "Basic c3BvbnNvcjpwdw=="}, "must be 'Bearer'"),
        ({"Authorization": "Bearer"}, "must be 'Bearer'"),
        ({"Authorization": "Bearer two words"}, "must be 'Bearer'"),
        ({"Authorization": "Bearer ecrf_" + "x" * 43}, "unknown, expired or revoked"),
        ({"Authorization": "Bearer not-even-a-token"}, "unknown, expired or revoked"),
        ({"Authorization": "Bearer ecrf_" + "é" * 500}, "unknown, expired or revoked"),
    ],
)
def test_missing_malformed_or_wrong_tokens_get_a_json_401(seeded, headers, fragment):
    response = seeded.app.test_client().get("/api/v1/subjects", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"]["status"] == 401
    assert fragment in response.json["error"]["message"]


def test_an_expired_token_is_refused(seeded):
    value = issue_token(seeded.app, "sponsor", days=1)
    client = seeded.app.test_client()
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 200
    with seeded.app.app_context():
        row = db.session.scalar(
            sa.select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(value))
        )
        assert tokens.user_for_token(value, now=row.expires_at - timedelta(seconds=1))
        assert tokens.user_for_token(value, now=row.expires_at) is None
        db.session.rollback()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401


def test_a_revoked_token_is_refused_and_the_revocation_audited(seeded):
    value = issue_token(seeded.app, "sponsor")
    client = seeded.app.test_client()
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 200
    with seeded.app.app_context():
        row = db.session.scalar(
            sa.select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(value))
        )
        tokens.revoke_token(row, actor=auth_services.get_user("admin"))
        db.session.commit()
        with pytest.raises(RuleViolation):
            tokens.revoke_token(row, actor=None)
        db.session.rollback()
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity == "token", AuditEvent.entity_id == str(row.id))
            .order_by(AuditEvent.seq)
        ).all()
        assert [e.action for e in events] == ["token_created", "token_revoked"]
        assert events[1].actor == "admin" and events[1].field == "sponsor"
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401


def test_a_token_follows_its_account_s_roles_and_dies_with_the_account(databases):
    from tests.seeded_trial import dispose, seed, trial_app

    app = trial_app(databases)
    seed(app, count=0)
    value = issue_token(app, "staff.tls")
    client = app.test_client()
    assert client.get("/api/v1/subjects", headers=bearer(value)).status_code == 200
    # The token follows the account's current roles: without its role it sees no subject.
    with app.app_context():
        staff = auth_services.get_user("staff.tls")
        auth_services.revoke_role(staff.roles[0], actor=None)
        db.session.commit()
    assert client.get("/api/v1/subjects", headers=bearer(value)).status_code == 403
    assert client.get("/api/v1/me", headers=bearer(value)).json["roles"] == []
    with app.app_context():
        auth_services.deactivate_user(
            auth_services.get_user("staff.tls"), actor=None, reason="left the site"
        )
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401
    dispose(app)


def test_who_may_create_tokens_for_whom(seeded):
    with seeded.app.app_context():
        admin, dm = auth_services.get_user("admin"), auth_services.get_user("datamanager")
        sponsor = auth_services.get_user("sponsor")
        with pytest.raises(RuleViolation, match="your own account"):
            tokens.create_token(admin, "mine", actor=admin)
        # A data manager manages the accounts whose roles they could grant, not admins.
        token, _ = tokens.create_token(sponsor, "from dm", actor=dm)
        assert token.created_by_id == dm.id
        with pytest.raises(PermissionDenied):
            tokens.create_token(admin, "up", actor=dm)
        with pytest.raises(PermissionDenied):
            tokens.create_token(sponsor, "staff", actor=auth_services.get_user("staff.bdx"))
        for days in (0, tokens.MAX_DAYS + 1):
            with pytest.raises(RuleViolation, match="lasts from"):
                tokens.create_token(sponsor, "bad", days=days, actor=admin)
        with pytest.raises(RuleViolation, match="Name the token"):
            tokens.create_token(sponsor, "  ", actor=admin)
        db.session.rollback()


def test_token_events_verify_and_tampering_with_tokens_is_seen(seeded):
    issue_token(seeded.app, "monitor")
    with seeded.app.app_context():
        assert verify_trail().intact, verify_trail().problems.shown
        row = db.session.scalar(sa.select(ApiToken).order_by(ApiToken.id.desc()).limit(1))
        # Whoever writes to the database alone plants a token of their own.
        planted = ApiToken(
            user=auth_services.get_user("datamanager"),
            name="planted",
            token_hash=tokens.hash_token("ecrf_planted"),
            hint="ecrf_plan",
            expires_at=utcnow() + timedelta(days=1),
        )
        db.session.add(planted)
        original_hash = row.token_hash
        row.token_hash = tokens.hash_token("ecrf_swapped")
        db.session.flush()
        problems = " | ".join(str(p) for p in verify_trail().problems.shown)
        assert f"API token {planted.id} has no creation in the trail" in problems
        assert f"API token {row.id} is not the token the trail created" in problems
        db.session.rollback()
        assert db.session.get(ApiToken, row.id).token_hash == original_hash
        assert verify_trail().intact


def test_cli_creates_lists_and_revokes_tokens(seeded):
    runner = seeded.app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", "sponsor", "--name", "nightly", "--days", "7"])
    assert result.exit_code == 0, result.output
    value = TOKEN_PATTERN.search(result.output).group(0)
    token_id = int(re.search(r"\(id (\d+)\)", result.output).group(1))
    listing = runner.invoke(args=["tokens", "list"]).output
    assert f"{token_id}\tsponsor\tnightly\t{value[:9]}…\tactive" in listing
    assert value not in listing
    client = seeded.app.test_client()
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 200
    refused = runner.invoke(args=["tokens", "revoke", str(token_id)], input="n\n")
    assert refused.exit_code != 0
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 200
    result = runner.invoke(args=["tokens", "revoke", str(token_id), "--yes"])
    assert result.exit_code == 0 and "revoked" in result.output
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401
    assert f"{token_id}\tsponsor" not in runner.invoke(args=["tokens", "list"]).output
    assert "revoked" in runner.invoke(args=["tokens", "list", "--all"]).output
    for args, message in [
        (["tokens", "create", "nobody", "--name", "x"], "No account"),
        (["tokens", "create", "sponsor", "--name", "x", "--days", "400"], "lasts from"),
        (["tokens", "revoke", "999999", "--yes"], "No token"),
        (["tokens", "revoke", "99999999999", "--yes"], "No token"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and message in result.output, result.output


def test_user_page_creates_a_token_shown_once_and_revokes_it(seeded):
    client = seeded.app.test_client()
    sign_in(client, "admin", seeded.passwords["admin"])
    page = client.get("/admin/users/sponsor")
    assert page.status_code == 200 and "API tokens" in page.get_data(as_text=True)
    refused = client.post("/admin/users/sponsor/tokens", data={"token-name": "", "token-days": "9"})
    assert refused.status_code == 422
    assert "Name the token" in refused.get_data(as_text=True)
    created = client.post(
        "/admin/users/sponsor/tokens", data={"token-name": "stats team", "token-days": "30"}
    )
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    value = TOKEN_PATTERN.search(created.get_data(as_text=True)).group(0)
    listing = client.get("/admin/users/sponsor").get_data(as_text=True)
    assert "stats team" in listing and value[:9] in listing and value not in listing
    assert client.get("/api/v1/me", headers=bearer(value)).json["username"] == "sponsor"
    token_id = _token_row(seeded.app, value).id
    revoked = client.post(f"/admin/users/sponsor/tokens/{token_id}/revoke")
    assert revoked.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(value)).status_code == 401
    # Another account's token id under this account's address is a 404.
    assert client.post(f"/admin/users/monitor/tokens/{token_id}/revoke").status_code == 404
    own = client.get("/admin/users/admin").get_data(as_text=True)
    assert "created by another user manager" in own


def test_a_site_manager_out_of_scope_gets_404_on_token_pages(seeded):
    client = seeded.app.test_client()
    sign_in(client, "datamanager", seeded.passwords["datamanager"])
    assert (
        client.post(
            "/admin/users/admin/tokens", data={"token-name": "x", "token-days": "5"}
        ).status_code
        == 404
    )
    client = seeded.app.test_client()
    sign_in(client, "staff.bdx", seeded.passwords["staff.bdx"])
    response = client.post("/admin/users/sponsor/tokens", data={"token-name": "x"})
    assert response.status_code == 403
