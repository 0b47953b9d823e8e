"""Variants of a definition for tests: a form or an item replaced, an item added."""

from __future__ import annotations

from dataclasses import replace


def replace_form(study, form_oid, **changes):
    return replace(
        study,
        forms=tuple(replace(f, **changes) if f.oid == form_oid else f for f in study.forms),
    )


def replace_item(study, form_oid, item_oid, **changes):
    form = next(f for f in study.forms if f.oid == form_oid)
    groups = tuple(
        replace(
            g,
            items=tuple(replace(i, **changes) if i.oid == item_oid else i for i in g.items),
        )
        for g in form.groups
    )
    return replace_form(study, form_oid, groups=groups)


def add_item(study, form_oid, item):
    form = next(f for f in study.forms if f.oid == form_oid)
    first, *rest = form.groups
    return replace_form(study, form_oid, groups=(replace(first, items=(*first.items, item)), *rest))
