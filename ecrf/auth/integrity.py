"""User accounts and role assignments held against the audit trail, both ways."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.auth.models import RoleAssignment, User
from ecrf.extensions import db
from ecrf.records.models import Site


class AccountReconciler:
    """Rebuilds accounts (exists, active) and roles (user, role@site) from the trail."""

    def __init__(self) -> None:
        self.users: dict[str, bool] = {}  # username → active
        self.roles: set[tuple[str, str]] = set()  # (username, "role@SITE" or "role@*")

    def handlers(self):
        return {
            "user_created": self._created,
            "user_deactivated": self._deactivated,
            "role_granted": self._granted,
            "role_revoked": self._revoked,
        }

    def _created(self, event: Event) -> None:
        self.users[event.entity_id] = True

    def _deactivated(self, event: Event) -> None:
        self.users[event.entity_id] = False

    def _granted(self, event: Event) -> None:
        self.roles.add((event.entity_id, event.new))

    def _revoked(self, event: Event) -> None:
        self.roles.discard((event.entity_id, event.old))

    def compare(self, problems: Problems) -> None:
        for username, active in db.session.execute(sa.select(User.username, User.active)):
            expected = self.users.pop(username, None)
            if expected is None:
                problems.add(f"user {username} has no creation in the trail")
            elif active and not expected:
                problems.add(f"user {username} is active but the trail deactivated the account")
            elif expected and not active:
                problems.add(
                    f"user {username} is deactivated but the trail never deactivated the account"
                )
        for username in self.users:
            problems.add(f"user {username} is missing from the data but the trail created it")

        roles = (
            sa.select(User.username, RoleAssignment.role, Site.code)
            .join(User, RoleAssignment.user_id == User.id)
            .outerjoin(Site, RoleAssignment.site_id == Site.id)
        )
        for username, role, code in db.session.execute(roles):
            label = f"{role.value}@{code or '*'}"
            if (username, label) in self.roles:
                self.roles.remove((username, label))
            else:
                problems.add(f"role {label} of user {username} has no grant in the trail")
        for username, label in sorted(self.roles):
            problems.add(
                f"role {label} of user {username} is missing from the data but the trail granted it"
            )
