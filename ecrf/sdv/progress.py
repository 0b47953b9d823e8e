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


def _counts(
    study: LoadedStudy, site_ids: Collection[int], subject_id: int | None, *, by_form: bool
):
    """The values captured, verified and withdrawn, counted in SQL (none read into
    Python): per subject, visit (OID, repeat key) and form when ``by_form``, else per
    subject and whether the form is critical: (subject id, visit OID, visit repeat key,
    form OID, captured, verified, withdrawn) or (subject id, critical, captured, verified,
    withdrawn).

    A value is captured when it holds a value or a missing-data code, in a row not
    removed, not derived, of an item the study defines in its form; it is verified when a
    verification of it holds, withdrawn when none holds and one was withdrawn.
    """
    verifications = sa.select(
        SourceVerification.entry_id,
        SourceVerification.group_oid,
        SourceVerification.repeat_key,
        SourceVerification.item_oid,
        sa.func.max(sa.case((SourceVerification.withdrawn_at.is_(None), 1), else_=0)).label(
            "holds"
        ),
    ).group_by(
        SourceVerification.entry_id,
        SourceVerification.group_oid,
        SourceVerification.repeat_key,
        SourceVerification.item_oid,
    )
    if subject_id is not None:
        verifications = verifications.where(SourceVerification.subject_id == subject_id)
    verifications = verifications.subquery("verifications")
    holds = verifications.c.holds
    if by_form:
        keys = [Subject.id, SubjectVisit.visit_oid, SubjectVisit.repeat_key, FormEntry.form_oid]
    else:
        critical = sa.case((FormEntry.form_oid.in_(study.study.critical_forms), 1), else_=0)
        keys = [Subject.id, critical]
    query = (
        sa.select(
            *keys,
            sa.func.count(),
            sa.func.sum(sa.case((holds == 1, 1), else_=0)),
            sa.func.sum(sa.case((holds == 0, 1), else_=0)),
        )
        .select_from(ItemValue)
        .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
        .join(FormEntry, ItemGroupRow.entry_id == FormEntry.id)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .join(Subject, SubjectVisit.subject_id == Subject.id)
        .outerjoin(
            verifications,
            sa.and_(
                verifications.c.entry_id == FormEntry.id,
                verifications.c.group_oid == ItemGroupRow.group_oid,
                verifications.c.repeat_key == ItemGroupRow.repeat_key,
                verifications.c.item_oid == ItemValue.item_oid,
            ),
        )
        .where(
            Subject.site_id.in_(site_ids),
            ItemGroupRow.removed.is_(False),
            ItemValue.derived.is_(False),
            sa.or_(ItemValue.value_text.is_not(None), ItemValue.missing_code.is_not(None)),
            _defined_items(study),
        )
        .group_by(*keys)
    )
    if subject_id is not None:
        query = query.where(Subject.id == subject_id)
    return db.session.execute(query)


def _defined_items(study: LoadedStudy) -> sa.ColumnElement[bool]:
    """Values of items the study defines in their form (a value of an item since dropped
    from the definition counts nowhere): a condition the study's size, not the data's,
    that looks the form up once per value."""
    items = {
        form.oid: sorted({item.oid for _, item in form.items()}) for form in study.forms.values()
    }
    return sa.case(
        {oid: ItemValue.item_oid.in_(oids) for oid, oids in items.items() if oids},
        value=FormEntry.form_oid,
        else_=sa.false(),
    )


def _step(captured: int, verified: int, withdrawn: int, required: bool) -> Progress:
    step = Progress(captured=captured, withdrawn=withdrawn)
    if required:
        step.required, step.verified = captured, verified
    else:
        step.beyond = verified
    return step


def subject_progress(
    study: LoadedStudy,
    subjects: list[Subject],
    percentages: dict[int, int],
    *,
    by_form: bool = True,
) -> dict[int, SubjectProgress]:
    """The progress of ``subjects`` (all of one site or a few), by subject id.

    :param percentages: each site's percentage, by site id.
    :param by_form: also by visit and by form (else the subjects' totals only).
    """
    site_ids = {s.site_id for s in subjects}
    only = subjects[0].id if len(subjects) == 1 else None
    result = {
        s.id: SubjectProgress(s, plan.sampled(study, s.identifier, percentages[s.site_id]))
        for s in subjects
    }
    if not by_form:
        for owner, critical, *counts in _counts(study, site_ids, only, by_form=False):
            if (sp := result.get(owner)) is not None:
                sp.progress.add(_step(*counts, required=bool(critical) or sp.sampled))
        return result
    for owner, visit_oid, visit_key, form_oid, *counts in _counts(
        study, site_ids, only, by_form=True
    ):
        sp = result.get(owner)
        if sp is None:
            continue
        step = _step(*counts, required=plan.is_critical(study, form_oid) or sp.sampled)
        sp.progress.add(step)
        sp.visits.setdefault((visit_oid, visit_key), Progress()).add(step)
        sp.forms.setdefault((visit_oid, visit_key, form_oid), Progress()).add(step)
    return result


def site_percentages(study: LoadedStudy, sites: list[Site]) -> dict[int, int]:
    own = {p.site_id: p.percentage for p in db.session.scalars(sa.select(SitePlan))}
    return {s.id: own.get(s.id, study.study.sdv_sample_percent) for s in sites}


def overview(
    study: LoadedStudy, sites: list[Site], *, by_form: bool = True
) -> tuple[list[SiteProgress], list[SubjectProgress]]:
    """Progress per site and per subject (in identifier order) at ``sites``; each
    subject's also by visit and form when ``by_form``."""
    percentages = site_percentages(study, sites)
    own = {p.site_id: p for p in db.session.scalars(sa.select(SitePlan))}
    subjects = list(
        db.session.scalars(
            sa.select(Subject)
            .where(Subject.site_id.in_([s.id for s in sites]))
            .order_by(Subject.identifier)
        )
    )
    per_subject = (
        subject_progress(study, subjects, percentages, by_form=by_form) if subjects else {}
    )
    per_site = {s.id: SiteProgress(s, percentages[s.id], own.get(s.id)) for s in sites}
    for sp in per_subject.values():
        site = per_site[sp.subject.site_id]
        site.subjects += 1
        site.sampled += int(sp.sampled)
        site.progress.add(sp.progress)
    return list(per_site.values()), [per_subject[s.id] for s in subjects]
