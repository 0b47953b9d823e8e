"""`ecrf demo --no-serve`: a ready-to-try database whose printed passwords work."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.auth import services as auth_services
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.demo_seeding import DEMO_SITES, DEMO_USERS
from ecrf.extensions import db
from ecrf.records.sites import all_sites
from tests.conftest import PASSWORD

DEMO_NAMES = [username for username, *_ in DEMO_USERS]


def printed_accounts(output: str) -> dict[str, str]:
    """username -> password, from the table the demo prints."""
    accounts = {}
    for line in output.splitlines():
        words = line.split()
        if words and words[0] in DEMO_NAMES:
            accounts[words[0]] = words[1]
    return accounts


def signs_in(app, username: str, password: str) -> bool:
    with app.app_context():
        result = auth_services.authenticate(username, password)
        db.session.commit()
        return result.user is not None


def test_demo_upgrades_an_empty_database_and_creates_sites_and_one_user_per_role(
    databases, make_app
):
    app = make_app(SQLALCHEMY_DATABASE_URI=databases.create_empty())
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert [s.code for s in all_sites()] == sorted(c for c, _ in DEMO_SITES)
        users = db.session.scalars(sa.select(User).order_by(User.id)).all()
        assert [u.username for u in users] == DEMO_NAMES
        granted = {a.role for u in users for a in u.roles}
        assert granted == set(Role)
        staff = auth_services.get_user("staff.bdx")
        assert [(a.role, a.site.code) for a in staff.roles] == [(Role.SITE_STAFF, "BDX")]
        revision = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        assert revision


def test_demo_prints_every_username_with_a_password_that_signs_in(app, runner):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Demo accounts (passwords are new at each run):" in result.output
    accounts = printed_accounts(result.output)
    assert list(accounts) == DEMO_NAMES
    for username, password in accounts.items():
        assert signs_in(app, username, password), username
    assert "Serving on" not in result.output


def test_running_the_demo_twice_prints_new_passwords_and_old_ones_stop_working(app, runner):
    first = printed_accounts(runner.invoke(args=["demo", "--no-serve"]).output)
    second_run = runner.invoke(args=["demo", "--no-serve"])
    assert second_run.exit_code == 0, second_run.output
    second = printed_accounts(second_run.output)
    assert list(second) == DEMO_NAMES
    for username in DEMO_NAMES:
        assert second[username] != first[username]
        assert not signs_in(app, username, first[username])
        assert signs_in(app, username, second[username])
    with app.app_context():
        assert len(all_sites()) == len(DEMO_SITES)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == len(DEMO_USERS)


def test_demo_rerun_unlocks_a_locked_demo_account(app, runner):
    runner.invoke(args=["demo", "--no-serve"])
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        signs_in(app, "monitor", "wrong password, again")
    accounts = printed_accounts(runner.invoke(args=["demo", "--no-serve"]).output)
    assert signs_in(app, "monitor", accounts["monitor"])


def test_demo_refuses_a_database_with_other_accounts_and_writes_nothing(
    app, runner, create_user, snapshot
):
    create_user("alice", Role.MONITOR)
    before = snapshot()
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 1
    assert (
        "Error: This database has accounts the demo did not create (alice); "
        "use a fresh database, or --force." in result.output
    )
    assert printed_accounts(result.output) == {}
    assert snapshot() == before


def test_demo_refuses_a_real_account_that_has_a_demo_username(app, runner, create_user, snapshot):
    # An operator's own "admin": the demo must not reset its password.
    create_user("admin", Role.ADMIN)
    before = snapshot()
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 1
    assert "accounts the demo did not create (admin)" in result.output
    assert snapshot() == before
    assert signs_in(app, "admin", PASSWORD)


def test_demo_with_force_runs_beside_other_accounts_and_leaves_them_alone(app, runner, create_user):
    create_user("alice", Role.MONITOR)
    result = runner.invoke(args=["demo", "--no-serve", "--force"])
    assert result.exit_code == 0, result.output
    accounts = printed_accounts(result.output)
    assert signs_in(app, "sponsor", accounts["sponsor"])
    assert signs_in(app, "alice", PASSWORD)


def test_demo_accepts_subjects_and_seed(runner):
    result = runner.invoke(args=["demo", "--no-serve", "--subjects", "5", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert list(printed_accounts(result.output)) == DEMO_NAMES


def test_demo_rejects_a_negative_subject_count(runner, snapshot):
    before = snapshot()
    result = runner.invoke(args=["demo", "--no-serve", "--subjects", "-1"])
    assert result.exit_code == 2
    assert "Invalid value for '--subjects'" in result.output
    assert snapshot() == before
