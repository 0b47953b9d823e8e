"""Sites looked up by code, or all of them: below the accounts, which are granted on sites."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.records.models import Site


def get_site(code: str) -> Site | None:
    return db.session.scalar(sa.select(Site).where(Site.code == code.strip().upper()))


def all_sites() -> list[Site]:
    return list(db.session.scalars(sa.select(Site).order_by(Site.code)))
