"""Look-ups in the IAH-PRRT definition for its tests: a form, a derivation, a check."""

from __future__ import annotations

from forms.iahprrt import STUDY
from forms.language import Check, Derivation, Form


def form(oid: str) -> Form:
    return next(f for f in STUDY.forms if f.oid == oid)


def derivation(form_oid: str, target: str) -> Derivation:
    return next(d for d in form(form_oid).derivations if d.target == target)


def check_named(form_oid: str, name: str) -> Check:
    return next(c for c in form(form_oid).checks if c.name == name)
