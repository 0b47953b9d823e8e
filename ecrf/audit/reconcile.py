"""The shape shared by the checks that hold the stored data against the audit trail.

Each domain rebuilds, from the events it records, the state its tables must be in, then
compares both ways: every stored row accounted for by the trail, every state the trail
implies present in the data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ecrf.audit.chain import Problems

#: An event row as streamed by the chain walk (attributes: seq, action, entity, entity_id,
#: site_id, field, old, new, ...).
Event = Any


class Reconciler(Protocol):
    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """action → what to do with an event of that action."""

    def compare(self, problems: Problems) -> None:
        """Report every difference between the rebuilt state and the tables."""


def dispatcher(reconcilers: list[Reconciler]) -> Callable[[Event], None]:
    """One callable feeding each event to the handlers registered for its action."""
    table: dict[str, list[Callable[[Event], None]]] = {}
    for reconciler in reconcilers:
        for action, handler in reconciler.handlers().items():
            table.setdefault(action, []).append(handler)

    def feed(event: Event) -> None:
        for handler in table.get(event.action, ()):
            handler(event)

    return feed
