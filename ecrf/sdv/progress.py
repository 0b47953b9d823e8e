"""SDV progress against the plan: per site, per subject, per visit and on one form.

A value counts once it is captured (a value or a missing-data code; derived values are
computed and not verified). "Required" values are those of the forms the plan has verified
(``ecrf.sdv.plan``); "withdrawn" counts values (in the plan or not) whose verification a
later change withdrew and that nobody has verified again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Site, Subject, SubjectVisit
from ecrf.sdv import plan
from ecrf.sdv.models import SitePlan, SourceVerification

#: (entry id, group OID, repeat key, item OID): one captured value.
ValueKey = tuple[int, str, int, str]


@dataclass
class Progress:
    required: int = 0
    verified: int = 0
    withdrawn: int = 0
    #: Values verified outside the plan (a monitor may verify anything).
    beyond: int = 0
    #: Values captured, in the plan or not.
    captured: int = 0

    @property
    def pending(self) -> int:
        return self.required - self.verified

    @property
    def percent(self) -> int | None:
        return None if not self.required else self.verified * 100 // self.required

    @property
    def done(self) -> bool:
        return self.required > 0 and self.verified == self.required

    def add(self, other: Progress) -> None:
        self.required += other.required
        self.verified += other.verified
        self.withdrawn += other.withdrawn
        self.beyond += other.beyond
        self.captured += other.captured


@dataclass
class SubjectProgress:
    subject: Subject
    sampled: bool
    progress: Progress = field(default_factory=Progress)
    #: By visit: {(visit OID, repeat key): Progress}.
    visits: dict[tuple[str, int], Progress] = field(default_factory=dict)
    #: By form: {(visit OID, repeat key, form OID): Progress}.
    forms: dict[tuple[str, int, str], Progress] = field(default_factory=dict)


@dataclass
class SiteProgress:
    site: Site
    percentage: int
    #: Whether a data manager set the site's own percentage (else the definition's).
    own: SitePlan | None
    subjects: int = 0
    sampled: int = 0
    progress: Progress = field(default_factory=Progress)


def _values(site_ids: Collection[int] | None, subject_id: int | None):
    query = (
        sa.select(
            FormEntry.id,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemValue.item_oid,
            Subject.id,
            FormEntry.form_oid,
            SubjectVisit.visit_oid,
            SubjectVisit.repeat_key,
        )
        .select_from(ItemValue)
        .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
        .join(FormEntry, ItemGroupRow.entry_id == FormEntry.id)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .join(Subject, SubjectVisit.subject_id == Subject.id)
        .where(
            ItemGroupRow.removed.is_(False),
            ItemValue.derived.is_(False),
            sa.or_(ItemValue.value_text.is_not(None), ItemValue.missing_code.is_not(None)),
        )
    )
    if site_ids is not None:
        query = query.where(Subject.site_id.in_(site_ids))
    if subject_id is not None:
        query = query.where(Subject.id == subject_id)
    return db.session.execute(query)


def _verifications(site_ids: Collection[int] | None, subject_id: int | None):
    query = sa.select(
        SourceVerification.entry_id,
        SourceVerification.group_oid,
        SourceVerification.repeat_key,
        SourceVerification.item_oid,
        SourceVerification.subject_id,
        SourceVerification.withdrawn_at.is_(None),
    )
    if site_ids is not None:
        query = query.join(Subject, SourceVerification.subject_id == Subject.id).where(
            Subject.site_id.in_(site_ids)
        )
    if subject_id is not None:
        query = query.where(SourceVerification.subject_id == subject_id)
    current: set[ValueKey] = set()
    withdrawn: dict[ValueKey, int] = {}
    for entry_id, group_oid, key, item_oid, owner, is_current in db.session.execute(query):
        value_key = (entry_id, group_oid, key, item_oid)
        if is_current:
            current.add(value_key)
        else:
            withdrawn[value_key] = owner
    return current, {k: s for k, s in withdrawn.items() if k not in current}


def subject_progress(
    study: LoadedStudy, subjects: list[Subject], percentages: dict[int, int]
) -> dict[int, SubjectProgress]:
    """The progress of ``subjects`` (all of one site or a few), by subject id.

    :param percentages: each site's percentage, by site id.
    """
    site_ids = {s.site_id for s in subjects}
    only = subjects[0].id if len(subjects) == 1 else None
    result = {
        s.id: SubjectProgress(s, plan.sampled(study, s.identifier, percentages[s.site_id]))
        for s in subjects
    }
    current, withdrawn = _verifications(site_ids, only)
    for entry_id, group_oid, key, item_oid, owner, form_oid, visit_oid, visit_key in _values(
        site_ids, only
    ):
        sp = result.get(owner)
        if sp is None or not study.has_item(form_oid, item_oid):
            continue
        step = Progress(captured=1)
        value_key = (entry_id, group_oid, key, item_oid)
        required = plan.is_critical(study, form_oid) or sp.sampled
        verified = value_key in current
        step.withdrawn = int(value_key in withdrawn)
        if required:
            step.required = 1
            step.verified = int(verified)
        else:
            step.beyond = int(verified)
        sp.progress.add(step)
        sp.visits.setdefault((visit_oid, visit_key), Progress()).add(step)
        sp.forms.setdefault((visit_oid, visit_key, form_oid), Progress()).add(step)
    return result


def site_percentages(study: LoadedStudy, sites: list[Site]) -> dict[int, int]:
    own = {p.site_id: p.percentage for p in db.session.scalars(sa.select(SitePlan))}
    return {s.id: own.get(s.id, study.study.sdv_sample_percent) for s in sites}


def overview(
    study: LoadedStudy, sites: list[Site]
) -> tuple[list[SiteProgress], list[SubjectProgress]]:
    """Progress per site and per subject (in identifier order) at ``sites``."""
    percentages = site_percentages(study, sites)
    own = {p.site_id: p for p in db.session.scalars(sa.select(SitePlan))}
    subjects = list(
        db.session.scalars(
            sa.select(Subject)
            .where(Subject.site_id.in_([s.id for s in sites]))
            .order_by(Subject.identifier)
        )
    )
    per_subject = subject_progress(study, subjects, percentages) if subjects else {}
    per_site = {s.id: SiteProgress(s, percentages[s.id], own.get(s.id)) for s in sites}
    for sp in per_subject.values():
        site = per_site[sp.subject.site_id]
        site.subjects += 1
        site.sampled += int(sp.sampled)
        site.progress.add(sp.progress)
    return list(per_site.values()), [per_subject[s.id] for s in subjects]
