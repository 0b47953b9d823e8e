"""The audit event every extract leaves: who exported what, of which sites."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from ecrf.audit.services import record_event

if TYPE_CHECKING:
    from ecrf.auth.models import User


def record_export(
    kind: str,
    *,
    actor: User | None,
    site_ids: Collection[int] | None,
    new: str,
    definition_version: str | None = None,
) -> None:
    """Action "export", entity "extract", id ``kind``; filed under the site when the extract
    covers exactly one (so that the site's own trail shows it)."""
    record_event(
        "export",
        "extract",
        kind,
        actor=actor,
        site_id=next(iter(site_ids)) if site_ids is not None and len(site_ids) == 1 else None,
        new=new,
        definition_version=definition_version,
    )
