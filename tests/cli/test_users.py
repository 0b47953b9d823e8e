"""`ecrf users create | list | deactivate | unlock`."""

from __future__ import annotations

import pytest

from ecrf.auth import services as auth_services
from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.records.sites import get_site
from tests.conftest import PASSWORD

NEW_PASSWORD = "  a long pass phrase with spaces  "


@pytest.fixture
def bdx(create_site):
    return create_site("BDX", "CHU de Bordeaux")


def create(runner, *args: str, password: str = NEW_PASSWORD):
    return runner.invoke(args=["users", "create", *args, "--password-stdin"], input=password + "\n")


def sign_in(app, username: str, password: str):
    with app.app_context():
        result = auth_services.authenticate(username, password)
        db.session.commit()
        return result


def roles_of(app, username: str) -> list[str]:
    with app.app_context():
        user = auth_services.get_user(username)
        return [f"{a.role.value}@{a.site.code if a.site else '*'}" for a in user.roles]


def lock(app, username: str) -> None:
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        sign_in(app, username, "not the password at all")


# --- create ---------------------------------------------------------------------------


def test_create_makes_an_account_with_its_role_at_the_site(app, runner, bdx, audit_actions):
    result = create(runner, "Camille.Martin", "--role", "site_staff", "--site", "bdx")
    assert result.exit_code == 0, result.output
    assert result.output == "Created camille.martin (Site staff at BDX).\n"
    assert roles_of(app, "camille.martin") == ["site_staff@BDX"]
    with app.app_context():
        user = auth_services.get_user("camille.martin")
        assert user.active and user.full_name == "Camille.Martin" and user.email is None
    assert audit_actions() == [
        ("site_created", "BDX", None),
        ("user_created", "camille.martin", None),
        ("role_granted", "camille.martin", None),
    ]


def test_a_password_set_by_the_operator_must_be_changed_unless_the_owner_typed_it(app, runner, bdx):
    assert create(runner, "camille", "--role", "site_staff", "--site", "BDX").exit_code == 0
    owner = create(runner, "root", "--role", "admin", "--no-change-required")
    assert owner.exit_code == 0, owner.output
    with app.app_context():
        assert auth_services.get_user("camille").must_change_password
        assert not auth_services.get_user("root").must_change_password


def test_password_is_the_first_stdin_line_exactly(app, runner, bdx):
    result = create(runner, "camille", "--role", "site_staff", "--site", "BDX")
    assert result.exit_code == 0, result.output
    assert sign_in(app, "camille", NEW_PASSWORD).user is not None
    assert sign_in(app, "camille", NEW_PASSWORD.strip()).user is None


def test_create_without_site_grants_the_role_at_all_sites_with_name_and_email(app, runner):
    result = create(
        runner, "hugo", "--role", "monitor", "--name", "Hugo Bernard", "--email", "h@example.org"
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Created hugo (Monitor at all sites).\n"
    assert roles_of(app, "hugo") == ["monitor@*"]
    with app.app_context():
        user = auth_services.get_user("hugo")
        assert (user.full_name, user.email) == ("Hugo Bernard", "h@example.org")


def test_create_requires_password_stdin(runner, snapshot):
    before = snapshot()
    result = runner.invoke(args=["users", "create", "hugo", "--role", "monitor"], input=PASSWORD)
    assert result.exit_code == 2
    assert "Missing option '--password-stdin'" in result.output
    assert snapshot() == before


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        pytest.param(
            ["alice", "--role", "monitor"],
            "short pw",
            "password: Use at least 12 characters.",
            id="short-password",
        ),
        pytest.param(
            ["alice", "--role", "monitor"],
            "",
            "password: Use at least 12 characters.",
            id="empty-stdin",
        ),
        pytest.param(
            ["alice", "--role", "monitor"],
            "my name is ALICE, ok?",
            "password: The password must not contain the username.",
            id="password-contains-username",
        ),
        pytest.param(
            ["alice", "--role", "site_staff", "--site", "XYZ"],
            NEW_PASSWORD,
            "No site with code 'XYZ'. Add it with `ecrf sites add`.",
            id="unknown-site",
        ),
        pytest.param(
            ["alice", "--role", "admin", "--site", "BDX"],
            NEW_PASSWORD,
            "site: The Administrator role applies to all sites.",
            id="admin-at-one-site",
        ),
        pytest.param(
            ["a!", "--role", "monitor"],
            NEW_PASSWORD,
            "username: Use 3 to 40 characters",
            id="malformed-username",
        ),
    ],
)
def test_create_refusals_exit_1_with_a_message_and_write_nothing(
    app, runner, bdx, snapshot, args, password, message
):
    before = snapshot()
    result = create(runner, *args, password=password)
    assert result.exit_code == 1, result.output
    assert f"Error: {message}" in result.output
    assert snapshot() == before
    with app.app_context():
        assert auth_services.get_user(args[0]) is None


def test_unknown_role_is_refused_by_the_choice_and_writes_nothing(runner, snapshot):
    before = snapshot()
    result = create(runner, "alice", "--role", "superuser")
    assert result.exit_code == 2
    assert "Invalid value for '--role': 'superuser' is not one of" in result.output
    assert snapshot() == before


@pytest.mark.parametrize("deactivated", [False, True], ids=["active", "deactivated"])
@pytest.mark.parametrize("spelling", ["alice", "ALICE"])
def test_a_used_username_is_never_reused(app, runner, create_user, snapshot, deactivated, spelling):
    create_user("alice", Role.MONITOR)
    if deactivated:
        assert runner.invoke(args=["users", "deactivate", "alice"]).exit_code == 0
    before = snapshot()
    result = create(runner, spelling, "--role", "sponsor")
    assert result.exit_code == 1
    assert "Error: username: The username 'alice' is already taken" in result.output
    assert "never reused" in result.output
    assert snapshot() == before
    assert roles_of(app, "alice") == ["monitor@*"]
    assert sign_in(app, "alice", NEW_PASSWORD).user is None


# --- list -----------------------------------------------------------------------------


def test_list_prints_one_user_a_line_username_status_roles(runner, bdx, create_user):
    create_user("zoe", Role.SITE_STAFF, "BDX")
    create_user("bob", Role.MONITOR)
    create_user("norole")
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    assert [line.split("\t") for line in result.output.splitlines()] == [
        ["bob", "active", "monitor@all sites", "Bob"],
        ["norole", "active", "-", "Norole"],
        ["zoe", "active", "site_staff@BDX", "Zoe"],
    ]


def test_list_shows_every_role_of_a_user(app, runner, bdx, create_user):
    create_user("zoe", Role.SITE_STAFF, "BDX")
    with app.app_context():
        zoe = auth_services.get_user("zoe")
        site = get_site("BDX")
        auth_services.grant_role(zoe, Role.INVESTIGATOR, site, actor=None)
        db.session.commit()
    line = runner.invoke(args=["users", "list"]).output.splitlines()[0]
    assert line.split("\t")[:3] == ["zoe", "active", "site_staff@BDX, investigator@BDX"]


def test_list_hides_deactivated_users_unless_all(runner, create_user):
    create_user("alice", Role.MONITOR)
    create_user("bob", Role.SPONSOR)
    runner.invoke(args=["users", "deactivate", "alice"])
    shown = runner.invoke(args=["users", "list"])
    assert [line.split("\t")[0] for line in shown.output.splitlines()] == ["bob"]
    every = runner.invoke(args=["users", "list", "--all"])
    assert every.exit_code == 0
    assert [line.split("\t")[:2] for line in every.output.splitlines()] == [
        ["alice", "deactivated"],
        ["bob", "active"],
    ]


def test_list_marks_a_locked_user(app, runner, create_user):
    create_user("alice", Role.MONITOR)
    lock(app, "alice")
    line = runner.invoke(args=["users", "list"]).output.splitlines()[0]
    assert line.split("\t")[:2] == ["alice", "active,locked"]


# --- deactivate -----------------------------------------------------------------------


def test_deactivate_records_the_reason_and_blocks_sign_in(app, runner, create_user, audit_actions):
    create_user("alice", Role.MONITOR)
    result = runner.invoke(args=["users", "deactivate", "Alice", "--reason", "Left the trial."])
    assert result.exit_code == 0, result.output
    assert result.output == "Deactivated alice.\n"
    assert audit_actions()[-1] == ("user_deactivated", "alice", "Left the trial.")
    with app.app_context():
        user = auth_services.get_user("alice")
        assert not user.active and user.deactivated_at is not None
    assert sign_in(app, "alice", PASSWORD).user is None


def test_deactivate_without_reason_records_the_default_reason(runner, create_user, audit_actions):
    create_user("alice", Role.MONITOR)
    assert runner.invoke(args=["users", "deactivate", "alice"]).exit_code == 0
    assert audit_actions()[-1] == ("user_deactivated", "alice", "Deactivated by an operator.")


def test_deactivating_twice_fails_cleanly(runner, create_user, snapshot):
    create_user("alice", Role.MONITOR)
    assert runner.invoke(args=["users", "deactivate", "alice"]).exit_code == 0
    before = snapshot()
    result = runner.invoke(args=["users", "deactivate", "alice"])
    assert result.exit_code == 1
    assert "Error: This account is already deactivated." in result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert snapshot() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No user 'nobody'."),
        (["alice", "--reason", "  "], "Give the reason for deactivation."),
    ],
)
def test_deactivate_refusals_write_nothing(runner, create_user, snapshot, args, message):
    create_user("alice", Role.MONITOR)
    before = snapshot()
    result = runner.invoke(args=["users", "deactivate", *args])
    assert result.exit_code == 1
    assert f"Error: {message}" in result.output
    assert snapshot() == before


def test_the_last_administrator_cannot_be_deactivated(app, runner, create_user, snapshot):
    create_user("root", Role.ADMIN)
    before = snapshot()
    result = runner.invoke(args=["users", "deactivate", "root"])
    assert result.exit_code == 1
    assert "Error: This is the last active administrator" in result.output
    assert snapshot() == before
    with app.app_context():
        assert auth_services.get_user("root").active


# --- unlock ---------------------------------------------------------------------------


def test_unlock_lifts_a_lockout(app, runner, create_user, audit_actions):
    create_user("alice", Role.MONITOR)
    lock(app, "alice")
    assert sign_in(app, "alice", PASSWORD).user is None
    result = runner.invoke(args=["users", "unlock", "ALICE"])
    assert result.exit_code == 0, result.output
    assert result.output == "Unlocked alice.\n"
    assert audit_actions()[-1] == ("unlocked", "alice", None)
    assert sign_in(app, "alice", PASSWORD).user is not None


def test_unlock_of_an_unlocked_user_fails_cleanly(runner, create_user, snapshot):
    create_user("alice", Role.MONITOR)
    before = snapshot()
    result = runner.invoke(args=["users", "unlock", "alice"])
    assert result.exit_code == 1
    assert "Error: This username is not locked." in result.output
    assert snapshot() == before
