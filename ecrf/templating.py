"""Template helpers: navigation by permission and UTC times shown unambiguously."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_login import current_user

from ecrf.auth.permissions import can
from ecrf.auth.roles import Perm


def format_utc(value: datetime | None) -> str:
    """ISO-like UTC timestamp with its zone spelled out (R16: no ambiguous times)."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["utc"] = format_utc

    @app.context_processor
    def navigation():
        def allowed(perm: str) -> bool:
            return can(current_user, Perm(perm))

        return {"can": allowed, "Perm": Perm, "study_name": "IAH-PRRT (LUTARTERIAL)"}
