"""The captured data read as a stream: every stored value once, in ODM order, by site."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.exports.stream import iter_rows, iter_values
from ecrf.extensions import db
from ecrf.records.models import ItemGroupRow, ItemValue, Site


def test_every_value_of_non_removed_rows_comes_once(seeded):
    with seeded.app.app_context():
        stored = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ItemValue)
            .join(ItemGroupRow)
            .where(ItemGroupRow.removed.is_(False))
        )
        records = list(iter_values())
        assert len(records) == stored > 0
        keys = {
            (
                r.subject,
                r.visit_oid,
                r.visit_repeat,
                r.form_oid,
                r.group_oid,
                r.repeat_key,
                r.item_oid,
            )
            for r in records
        }
        assert len(keys) == len(records)


def test_rows_gather_values_and_follow_the_chain_order(seeded):
    with seeded.app.app_context():
        rows = list(iter_rows())
        assert sum(len(r.values) for r in rows) == len(list(iter_values()))
        subjects = [r.subject for r in rows]
        # One subject's rows come together, never interleaved with another's.
        seen: list[str] = []
        for subject in subjects:
            if not seen or seen[-1] != subject:
                assert subject not in seen
                seen.append(subject)
        assert len(seen) > 1


def test_site_and_form_filters(seeded):
    with seeded.app.app_context():
        bdx = db.session.scalar(sa.select(Site).where(Site.code == "BDX"))
        at_bdx = list(iter_rows([bdx.id]))
        assert at_bdx and {r.site_code for r in at_bdx} == {"BDX"}
        assert len(at_bdx) < len(list(iter_rows()))
        assert list(iter_rows([])) == []
        dm_rows = list(iter_rows(form_oid="DM"))
        assert dm_rows and {r.form_oid for r in dm_rows} == {"DM"}
