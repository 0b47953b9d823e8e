"""What every report's pages carry: title, running header, who generated it and when, and
the audit checkpoint the data were read at."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrf.audit.checkpoints import Checkpoint, write_checkpoint
from ecrf.audit.services import cli_actor
from ecrf.db import utcnow

if TYPE_CHECKING:
    from ecrf.auth.models import User

STUDY_HEADER = "IAH-PRRT (LUTARTERIAL) · NCT04837885"


def page_context(
    title: str,
    *,
    actor: User | None,
    header_left: str = STUDY_HEADER,
    header_right: str = "",
    checkpoint: Checkpoint | None = None,
) -> dict[str, Any]:
    """The ``page`` of ``reports/templates/base.html``; writes an audit checkpoint (the
    report states which committed state of the trail its data correspond to), unless a
    batch of reports gives the one it wrote."""
    checkpoint = checkpoint or write_checkpoint()
    return {
        "title": title,
        "header_left": header_left,
        "header_right": header_right,
        "generated_at": utcnow(),
        "generated_by": actor.username if actor is not None else cli_actor(),
        "checkpoint": checkpoint.hash,
    }
