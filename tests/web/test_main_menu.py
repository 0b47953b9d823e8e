"""The main menu shows what the signed-in user's permissions allow: the menu each role sees
is the one rendered afresh for them, and it follows a role granted meanwhile (the menu is
rendered once per set of permissions held, ecrf/templating.py)."""

from __future__ import annotations

import re

from flask import render_template
from flask_login import login_user

from ecrf.auth import services as auth_services
from ecrf.auth.models import User
from ecrf.auth.roles import ALL_SITES_ONLY, Role
from ecrf.extensions import db

MENU = re.compile(r'<nav aria-label="Main">.*?</nav>', re.S)


def menu_shown(client) -> str:
    return MENU.search(client.get("/account").get_data(as_text=True)).group(0)


def menu_rendered_afresh(app, user_id: int) -> str:
    with app.test_request_context("/account"):
        login_user(db.session.get(User, user_id))
        return render_template("_main_menu.html")


def test_each_role_sees_the_menu_of_its_own_permissions(
    app, client, auth, create_site, create_user
):
    create_site("BDX")
    users = {
        role: create_user(role.value, role, None if role in ALL_SITES_ONLY else "BDX")
        for role in Role
    }
    shown = {}
    for role, user_id in users.items():
        auth.login(role.value)
        shown[role] = menu_shown(client)
        assert shown[role] == menu_rendered_afresh(app, user_id), role
        auth.logout()
    assert shown[Role.SITE_STAFF] != shown[Role.ADMIN]


def test_a_role_granted_shows_in_the_menu_of_the_next_page(app, client, auth, create_user):
    boss = create_user("boss", Role.ADMIN)
    monitor = create_user("monitor", Role.MONITOR)
    auth.login("monitor")
    before = menu_shown(client)
    assert ">Locks<" not in before
    with app.app_context():
        auth_services.grant_role(
            db.session.get(User, monitor),
            Role.DATA_MANAGER,
            None,
            actor=db.session.get(User, boss),
        )
        db.session.commit()
    after = menu_shown(client)
    assert ">Locks<" in after
    assert after == menu_rendered_afresh(app, monitor)
