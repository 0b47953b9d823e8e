"""The one permission check: roles, sites, and roles for every site."""

from __future__ import annotations

import pytest

from ecrf.auth.models import User
from ecrf.auth.permissions import can, can_everywhere, require_permission, sites_with
from ecrf.auth.roles import ROLE_PERMISSIONS, Perm, Role
from ecrf.errors import PermissionDenied
from ecrf.extensions import db


@pytest.fixture
def sites(create_site):
    return create_site("BDX").id, create_site("TLS").id


def user_with(create_user, role, site):
    return db.session.get(User, create_user(f"u.{role.value}.{site or 'all'}", role, site))


# The administrator role exists only for all sites (tested below).
@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_site_role_holds_its_permissions_at_its_site_only(role, sites, create_user, app_ctx):
    bdx, tls = sites
    user = user_with(create_user, role, "BDX")
    for perm in Perm:
        expected = perm in ROLE_PERMISSIONS[role]
        assert can(user, perm, bdx) is expected, perm
        assert can(user, perm, tls) is False, perm
        assert can(user, perm) is expected, perm
    assert sites_with(user, Perm.VIEW_SUBJECTS) == {bdx}


def test_role_for_all_sites_covers_every_site(sites, create_user, app_ctx):
    bdx, tls = sites
    monitor = user_with(create_user, Role.MONITOR, None)
    assert can(monitor, Perm.RAISE_QUERY, bdx) and can(monitor, Perm.RAISE_QUERY, tls)
    assert sites_with(monitor, Perm.VIEW_SUBJECTS) is None
    assert can_everywhere(monitor, Perm.VIEW_SUBJECTS)
    assert not can(monitor, Perm.ENTER_DATA, bdx)


def test_administrator_manages_but_sees_no_clinical_data(sites, create_user, app_ctx):
    bdx, _ = sites
    admin = user_with(create_user, Role.ADMIN, None)
    assert can(admin, Perm.MANAGE_USERS) and can(admin, Perm.MANAGE_SITES)
    assert not can(admin, Perm.VIEW_SUBJECTS, bdx)
    assert not can(admin, Perm.ENTER_DATA, bdx)


def test_only_investigators_sign_and_sponsors_only_read(sites, create_user, app_ctx):
    signers = {role for role, perms in ROLE_PERMISSIONS.items() if Perm.SIGN in perms}
    writers = {role for role, perms in ROLE_PERMISSIONS.items() if Perm.ENTER_DATA in perms}
    assert signers == {Role.INVESTIGATOR}
    assert writers == {Role.SITE_STAFF, Role.INVESTIGATOR}
    assert ROLE_PERMISSIONS[Role.SPONSOR] == {Perm.VIEW_SUBJECTS, Perm.EXPORT_DATA}


def test_deactivated_user_holds_no_permission(sites, create_user, app_ctx):
    bdx, _ = sites
    user = user_with(create_user, Role.INVESTIGATOR, "BDX")
    user.active = False
    assert not can(user, Perm.VIEW_SUBJECTS, bdx)


def test_check_raises_permission_denied_with_a_readable_message(sites, create_user, app_ctx):
    _, tls = sites
    user = user_with(create_user, Role.SITE_STAFF, "BDX")
    with pytest.raises(PermissionDenied, match="not allowed to register subjects"):
        require_permission(user, Perm.ENTER_DATA, tls)


def test_nobody_signed_in_can_do_nothing(sites, app_ctx):
    assert not can(None, Perm.VIEW_SUBJECTS)
