"""The one permission check used by every view and service."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from ecrf.auth.roles import ROLE_PERMISSIONS, Perm
from ecrf.errors import PermissionDenied

if TYPE_CHECKING:
    from ecrf.auth.models import RoleAssignment, User

F = TypeVar("F", bound=Callable[..., Any])

#: Returned by :func:`sites_with` when a permission holds at every site.
ALL_SITES = None


def _assignments(user: User | None) -> list[RoleAssignment]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return []
    return user.roles


def _grants(user: User | None, perm: Perm):
    for assignment in _assignments(user):
        if perm in ROLE_PERMISSIONS[assignment.role]:
            yield assignment


def can(user: User | None, perm: Perm, site_id: int | None = None) -> bool:
    """Whether ``user`` holds ``perm`` at ``site_id``, or anywhere when no site is given.

    A role granted for all sites (site NULL) covers every site.
    """
    for assignment in _grants(user, perm):
        if site_id is None or assignment.site_id is None or assignment.site_id == site_id:
            return True
    return False


def held_anywhere(user: User | None) -> frozenset[Perm]:
    """The permissions ``user`` holds at one site at least: those :func:`can` allows when no
    site is given."""
    return frozenset(
        perm for assignment in _assignments(user) for perm in ROLE_PERMISSIONS[assignment.role]
    )


def can_everywhere(user: User | None, perm: Perm) -> bool:
    """Whether ``user`` holds ``perm`` through a role granted for all sites."""
    return any(a.site_id is None for a in _grants(user, perm))


def require_permission(user: User | None, perm: Perm, site_id: int | None = None) -> None:
    """Raise :class:`PermissionDenied` unless :func:`can` allows it."""
    if not can(user, perm, site_id):
        raise PermissionDenied(_not_allowed(perm))


def _not_allowed(perm: Perm) -> str:
    return f"You are not allowed to {perm.label.lower()} here."


def sites_with(user: User | None, perm: Perm) -> set[int] | None:
    """The ids of the sites where ``user`` holds ``perm``, or ALL_SITES (None)."""
    site_ids: set[int] = set()
    for assignment in _grants(user, perm):
        if assignment.site_id is None:
            return ALL_SITES
        site_ids.add(assignment.site_id)
    return site_ids


def require(perm: Perm, *alternatives: Perm) -> Callable[[F], F]:
    """View decorator: sign-in required, and ``perm`` (or one of ``alternatives``) held at
    one site at least.

    Views that act on one site's records check that site again with :func:`check`.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from flask_login import current_user

            from ecrf.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(can(current_user, p) for p in (*alternatives, perm)):
                raise PermissionDenied(_not_allowed(perm), before_view=True)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
