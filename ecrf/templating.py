"""Template helpers: navigation by permission and UTC times shown unambiguously."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from flask import Flask, g, render_template, request
from flask_login import current_user
from markupsafe import Markup

from ecrf.auth.permissions import can, held_anywhere
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.jobs.seeding import SeedingProgress, seeding_progress
from ecrf.records.loader import current_study
from ecrf.records.recorded import describe_recorded
from forms.language import AllOf, When


def format_utc(value: datetime | None) -> str:
    """ISO-like UTC timestamp with its zone spelled out (R16: no ambiguous times)."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def condition_json(condition) -> str:
    """A definition's condition as JSON for the page's script (same semantics as the server)."""

    def plain(c):
        if isinstance(c, When):
            value = c.value
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, (tuple, list)):
                value = [float(v) if isinstance(v, Decimal) else v for v in value]
            return {"item": c.item, "op": c.op, "value": value}
        key = "all" if isinstance(c, AllOf) else "any"
        return {key: [plain(x) for x in c.conditions]}

    return json.dumps(plain(condition))


def recorded_value(form_oid: str, path: str | None, text: str | None) -> str:
    """A value of the trail as people read it ("—" for none): labels, units, missing codes."""
    if text is None:
        return "—"
    return describe_recorded(current_study(), form_oid, path, text)


#: Seconds between the reloads of a page that follows the demo seeding.
SEEDING_REFRESH_SECONDS = 3


def demo_seeding() -> SeedingProgress | None:
    """The unfinished demo seeding's progress (read once per request)."""
    if "demo_seeding" not in g:
        g.demo_seeding = seeding_progress()
    return g.demo_seeding


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["utc"] = format_utc
    app.jinja_env.globals["recorded_value"] = recorded_value
    app.jinja_env.globals["demo_seeding"] = demo_seeding
    app.jinja_env.globals["seeding_refresh_seconds"] = SEEDING_REFRESH_SECONDS
    app.jinja_env.filters["condition_json"] = condition_json

    #: The main menu as rendered, by (application root, permissions held anywhere).
    menus: dict[tuple[str, frozenset[Perm]], Markup] = {}

    def main_menu() -> Markup:
        """The signed-in user's main menu. It depends only on the permissions they hold at one
        site at least, so it is rendered once per set of permissions: every page shows it,
        and it asks a dozen permissions and builds a dozen links."""
        key = (request.script_root, held_anywhere(current_user._get_current_object()))
        menu = menus.get(key)
        if menu is None:
            menu = menus[key] = Markup(render_template("_main_menu.html"))
        return menu

    app.jinja_env.globals["main_menu"] = main_menu

    @app.context_processor
    def navigation():
        # The user behind the proxy, resolved once: the navigation asks a dozen times a page.
        user = current_user._get_current_object()

        def allowed(perm: str) -> bool:
            return can(user, Perm(perm))

        return {
            "can": allowed,
            "Perm": Perm,
            "study_name": "IAH-PRRT (LUTARTERIAL)",
            "generated_at": utcnow(),
        }
