"""The keep-alive the idle warning's "Stay signed in" button calls."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

bp = Blueprint("resume", __name__)


@bp.post("/session/keep-alive")
def keep_alive():
    """Count as activity: the idle time-out hook has already refreshed the session's clock."""
    if not current_user.is_authenticated:
        return "", 401
    return "", 204
