"""The targeted verification plan: which forms of which subjects are to be verified.

The definition's critical forms (``Study.critical_forms``) for every subject; the other
forms for a percentage of the subjects (``Study.sdv_sample_percent``, or the site's own
``SitePlan``). A subject is in the sample when its bucket, a hash of the study and its
identifier (0-99), lies under the percentage: the same subjects on every run and on every
machine, and raising the percentage only adds subjects.
"""

from __future__ import annotations

import hashlib

from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.sdv.models import SitePlan


def bucket(study_oid: str, identifier: str) -> int:
    """The subject's place (0-99) in the sampling order; stable, and spread evenly."""
    digest = hashlib.sha256(f"{study_oid}/{identifier}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def sampled(study: LoadedStudy, identifier: str, percentage: int) -> bool:
    """Whether the subject's non-critical forms are verified at ``percentage``."""
    return bucket(study.study.oid, identifier) < percentage


def site_percentage(study: LoadedStudy, site_id: int) -> int:
    """The site's own percentage if a data manager set one, else the definition's."""
    plan = db.session.get(SitePlan, site_id)
    return plan.percentage if plan is not None else study.study.sdv_sample_percent


def is_critical(study: LoadedStudy, form_oid: str) -> bool:
    return form_oid in study.study.critical_forms


def form_required(study: LoadedStudy, identifier: str, form_oid: str, percentage: int) -> bool:
    """Whether the plan has this form of this subject verified."""
    return is_critical(study, form_oid) or sampled(study, identifier, percentage)
