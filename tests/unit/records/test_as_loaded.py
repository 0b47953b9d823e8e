"""Objects made from plain rows (``as_loaded``) behave as the ORM's own loads: no statement,
nothing to flush, the session's object when it holds one, its expired attributes refreshed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.records.data import as_loaded, plain_rows
from ecrf.records.models import Site


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def site_row(code: str) -> sa.Row:
    return plain_rows(sa.select(Site).where(Site.code == code), {}).one()


def test_an_object_made_from_a_row_is_loaded_and_clean_without_a_statement(sites):
    db.session.expunge_all()
    row = site_row("BDX")
    with statements() as seen:
        site = as_loaded(Site, row)
        assert (site.id, site.code, site.name) == (row.id, "BDX", row.name)
        assert site.created_at == row.created_at
        assert sa.inspect(site).persistent and site not in db.session.dirty
        db.session.flush()
    assert seen == []
    assert db.session.get(Site, row.id) is site  # the session's object from now on


def test_the_sessions_own_object_is_returned_with_what_it_changed_kept(sites):
    site = sites["TLS"]
    site.name = "Changed, not flushed"
    with db.session.no_autoflush:
        row = site_row("TLS")
    assert as_loaded(Site, row) is site
    assert site.name == "Changed, not flushed"  # as a query keeps a loaded object's state


def test_an_expired_object_takes_its_attributes_from_the_row(sites):
    site = sites["BDX"]
    db.session.commit()  # every object expired
    db.session.execute(sa.update(Site).where(Site.code == "BDX").values(name="Renamed"))
    row = site_row("BDX")
    with statements() as seen:
        assert as_loaded(Site, row) is site
        assert site.name == "Renamed"
    assert seen == []
