"""API tokens held against the audit trail, both ways: a token planted in the database,
moved to another account, un-revoked, or deleted, is seen by `ecrf audit verify`."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.api.models import ApiToken
from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.auth.models import User
from ecrf.extensions import db


class TokenReconciler:
    """Rebuilds tokens (account, hash, revoked) from the trail."""

    def __init__(self) -> None:
        self.tokens: dict[int, list] = {}  # id → [username, hash, revoked]

    def handlers(self):
        return {"token_created": self._created, "token_revoked": self._revoked}

    def _created(self, event: Event) -> None:
        self.tokens[int(event.entity_id)] = [event.field, (event.new or "").split(" ")[0], False]

    def _revoked(self, event: Event) -> None:
        self.tokens.setdefault(int(event.entity_id), [event.field, None, False])[2] = True

    def compare(self, problems: Problems) -> None:
        stored = sa.select(
            ApiToken.id, User.username, ApiToken.token_hash, ApiToken.revoked_at
        ).join(User, ApiToken.user_id == User.id)
        for token_id, username, token_hash, revoked_at in db.session.execute(stored):
            expected = self.tokens.pop(token_id, None)
            if expected is None:
                problems.add(f"API token {token_id} has no creation in the trail")
                continue
            if expected[0] != username or expected[1] != token_hash:
                problems.add(f"API token {token_id} is not the token the trail created")
            if expected[2] and revoked_at is None:
                problems.add(f"API token {token_id} is usable but the trail revoked it")
            elif revoked_at is not None and not expected[2]:
                problems.add(f"API token {token_id} is revoked but the trail never revoked it")
        for token_id in sorted(self.tokens):
            problems.add(f"API token {token_id} is missing from the data but the trail created it")
