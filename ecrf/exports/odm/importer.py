"""``import_odm``: subjects of an ODM 1.3.2 file of this study brought in through the one
write path, all or nothing.

How what ODM 1.3.2 has no element for travels (see ``oids``):
- the subject identifier is the ``SubjectKey`` (SITE-NNN, kept as it is: the subject is
  registered under its own number) and its site the ``SiteRef`` (``LOC.<site code>``);
- a visit date is an Annotation flag ``VISIT_DATE`` on the StudyEventData (ISO 8601), an
  out-of-window date a flag ``OUT_OF_WINDOW`` whose comment is the deviation's reason;
- the subject's status is the sequence of its changes, one Annotation flag
  ``SUBJECT_STATUS`` each (the comment is the reason), replayed after the data in order;
- a form's status is a flag ``FORM_STATUS``; a missing-data code is ``IsNull="Yes"`` with a
  flag ``MISSING_CODE``.

The file is read and checked whole first (schema, study, OIDs, keys), then each subject is
replayed through ``register_subject``, ``visits.set_visit_date``/``add_unscheduled_visit``,
``save_form`` and ``change_status`` as the command-line operator, who also takes the
investigator's decisions the file records (as ``ecrf demo`` does). Derived items are not
read: the write path derives them again. Every problem is collected; the caller commits
only when there is none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from lxml import etree

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.crf import services as crf_services
from ecrf.crf import visits
from ecrf.errors import DomainError
from ecrf.exports.odm import oids
from ecrf.exports.odm.schema import schema_errors
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Site, Subject, SubjectStatus
from ecrf.study import subjects
from forms.language import MISSING_CODES, DataType, VisitKind, condition_items

# User-facing text, in one place (a translation will follow).
MESSAGES = {
    "not_xml": "The file is not well-formed XML; nothing was imported.",
    "invalid": "The file is not valid CDISC ODM 1.3.2; nothing was imported.",
    "refused": "The file cannot be imported; nothing was imported.",
    "other_study": "{path}: study {found}, not this study's {expected}.",
    "other_version": "{path}: metadata version {found}, not this study's {expected}.",
    "no_clinical_data": "The file holds no ClinicalData.",
    "bad_key": "{path}: a subject key is SITE-NNN (e.g. BDX-001), not {key!r}.",
    "no_site_ref": "{path}: no SiteRef names the subject's site.",
    "site_mismatch": "{path}: SiteRef {location} is not the site of subject {key}.",
    "unknown_site": "{path}: no site {code} in this database (add it with `ecrf sites add`).",
    "exists": "{path}: subject {key} already exists.",
    "duplicate": "{path}: subject {key} appears twice in the file.",
    "transaction": "{path}: TransactionType {kind} is not supported (a new subject only).",
    "unknown_oid": "{path}: unknown {what} {oid}.",
    "not_in": "{path}: {what} {oid} is not part of {parent}.",
    "repeat_key": "{path}: repeat key {key!r} is not a positive whole number.",
    "repeated_twice": "{path}: appears twice.",
    "flag": "{path}: flag {flag_type} has an unknown value {value!r}.",
    "unsupported": "{path}: element {tag} is not supported.",
    "no_value": "{path}: neither a Value nor IsNull with a missing-data code.",
    "unknown_unit": "{path}: MeasurementUnitRef {oid} is not a unit of this item.",
    "no_date": "{path}: an unscheduled visit needs its date (flag VISIT_DATE).",
    "refused_by": "{key}: {where}: {message}",
    "repeat_mismatch": "the file numbers it {expected}, the study would number it {made}.",
    "status_reason": "Imported from ODM.",
    "summary": "Imported {subjects} subjects ({forms} forms, {values} values) from {name}.",
}

KEY_PATTERN = re.compile(r"^([A-Z0-9]{2,8})-(\d{3,})$")
ODM = f"{{{oids.NS}}}"
#: What ``change_status`` appends to a screen failure's reason.
CRITERIA_NOTE = re.compile(r" \[criteria not met: [^\]]*\]$")


class ImportRefused(DomainError):
    """The file cannot be imported; ``problems`` name each one (element, subject, item)."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class FormPlan:
    oid: str
    complete: bool
    #: The reason for change the file records for the form's values (the first found):
    #: given to the write path, which keeps it where a gate asks for one.
    reason: str | None = None
    rows: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)


@dataclass
class VisitPlan:
    oid: str
    repeat: int
    date: date | None = None
    deviation: str | None = None
    forms: list[FormPlan] = field(default_factory=list)


@dataclass
class SubjectPlan:
    key: str
    site: Site
    number: int
    statuses: list[tuple[SubjectStatus, str | None]] = field(default_factory=list)
    visits: list[VisitPlan] = field(default_factory=list)


@dataclass
class ImportReport:
    name: str
    subjects: int = 0
    forms: int = 0
    values: int = 0

    def summary(self) -> str:
        return MESSAGES["summary"].format(
            subjects=self.subjects, forms=self.forms, values=self.values, name=self.name
        )


def import_odm(study: LoadedStudy, path: Path, *, actor: User | None = None) -> ImportReport:
    """Import every subject of the ODM file ``path`` of ``study`` through the write path
    (not committed).

    :param actor: who enters the data and takes the decisions (None: the operator).
    :raises ImportRefused: with every problem found; the caller must roll back.
    """
    path = Path(path)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        tree = etree.parse(str(path), parser)
    except (etree.XMLSyntaxError, OSError) as exc:
        raise ImportRefused(MESSAGES["not_xml"], [str(exc)]) from None
    errors = schema_errors(tree)
    if errors:
        raise ImportRefused(MESSAGES["invalid"], errors)
    problems: list[str] = []
    plans = _Reader(study, problems).read(tree.getroot())
    if problems:
        raise ImportRefused(MESSAGES["refused"], problems)
    report = ImportReport(path.name)
    _hold_sites({plan.site.id for plan in plans})
    for plan in plans:
        try:
            # A savepoint per subject: a refused subject is undone and the next one still
            # checked, so that one run names every problem.
            with db.session.begin_nested():
                _replay(study, plan, actor, report)
        except DomainError as exc:
            problems.append(exc.message)
    if problems:
        raise ImportRefused(MESSAGES["refused"], problems)
    record_event(
        "import",
        "extract",
        "odm",
        actor=actor,
        new=report.summary(),
        definition_version=study.version,
    )
    return report


def _hold_sites(site_ids: set[int]) -> None:
    """Lock the sites the file registers subjects at until the transaction ends.

    No registration at those sites can then slip between the numbers the file keeps. It
    also opens the transaction for real on SQLite (a no-op UPDATE, as ``lock_subject``
    explains): the savepoints below then nest in it, instead of each starting and, on
    release, committing a transaction of its own under pysqlite, which would keep the
    subjects replayed before a refusal.
    """
    db.session.execute(
        sa.update(Site)
        .where(Site.id.in_(sorted(site_ids) or [-1]))
        .values(last_subject_number=Site.last_subject_number)
        .execution_options(synchronize_session=False)
    )


# --- reading and checking the file ---------------------------------------------------------


def _local(node) -> str:
    return etree.QName(node).localname


def _flags(node) -> list[tuple[str, str, str | None]]:
    """(flag type, flag value, comment) of the node's own Annotations, in SeqNum order."""
    found = []
    annotations = sorted(node.findall(f"{ODM}Annotation"), key=lambda a: int(a.get("SeqNum")))
    for annotation in annotations:
        comment = annotation.findtext(f"{ODM}Comment")
        for flag in annotation.findall(f"{ODM}Flag"):
            flag_type = (flag.findtext(f"{ODM}FlagType") or "").strip()
            found.append((flag_type, (flag.findtext(f"{ODM}FlagValue") or "").strip(), comment))
    return found


class _Reader:
    def __init__(self, study: LoadedStudy, problems: list[str]) -> None:
        self.study = study
        self.problems = problems
        self.sites = {site.code: site for site in db.session.scalars(sa.select(Site))}

    def problem(self, message: str, /, **kw) -> None:
        self.problems.append(MESSAGES[message].format(**kw))

    def read(self, root) -> list[SubjectPlan]:
        expected_study = oids.study_oid(self.study.study.oid)
        expected_mdv = oids.mdv_oid(self.study.version)
        for node in root.findall(f"{ODM}Study"):
            if node.get("OID") != expected_study:
                self.problem(
                    "other_study", path="Study", found=node.get("OID"), expected=expected_study
                )
        plans: list[SubjectPlan] = []
        clinical = root.findall(f"{ODM}ClinicalData")
        if not clinical:
            self.problems.append(MESSAGES["no_clinical_data"])
        seen: set[str] = set()
        for number, data in enumerate(clinical, start=1):
            where = f"ClinicalData[{number}]"
            if data.get("StudyOID") != expected_study:
                self.problem(
                    "other_study", path=where, found=data.get("StudyOID"), expected=expected_study
                )
                continue
            if data.get("MetaDataVersionOID") != expected_mdv:
                self.problem(
                    "other_version",
                    path=where,
                    found=data.get("MetaDataVersionOID"),
                    expected=expected_mdv,
                )
                continue
            for node in data.findall(f"{ODM}SubjectData"):
                plan = self._subject(node, seen)
                if plan is not None:
                    plans.append(plan)
        return plans

    def _subject(self, node, seen: set[str]) -> SubjectPlan | None:
        key = node.get("SubjectKey")
        path = f"SubjectData[@SubjectKey={key!r}]"
        match = KEY_PATTERN.match(key)
        if match is None:
            self.problem("bad_key", path=path, key=key)
            return None
        code, number = match.group(1), int(match.group(2))
        if key != f"{code}-{number:03d}":
            self.problem("bad_key", path=path, key=key)
            return None
        if key in seen:
            self.problem("duplicate", path=path, key=key)
            return None
        seen.add(key)
        if node.get("TransactionType") not in (None, "Insert"):
            self.problem("transaction", path=path, kind=node.get("TransactionType"))
        site_ref = node.find(f"{ODM}SiteRef")
        if site_ref is None:
            self.problem("no_site_ref", path=path)
            return None
        if site_ref.get("LocationOID") != oids.location_oid(code):
            self.problem("site_mismatch", path=path, location=site_ref.get("LocationOID"), key=key)
            return None
        site = self.sites.get(code)
        if site is None:
            self.problem("unknown_site", path=path, code=code)
            return None
        exists = db.session.scalar(sa.select(Subject.id).where(Subject.identifier == key))
        if exists is not None:
            self.problem("exists", path=path, key=key)
        plan = SubjectPlan(key, site, number)
        for flag_type, value, comment in _flags(node):
            if flag_type != oids.SUBJECT_STATUS:
                continue
            try:
                plan.statuses.append((SubjectStatus(value), comment))
            except ValueError:
                self.problem("flag", path=path, flag_type=flag_type, value=value)
        seen_visits: set[tuple[str, int]] = set()
        for event in node.findall(f"{ODM}StudyEventData"):
            visit = self._visit(event, path, seen_visits)
            if visit is not None:
                plan.visits.append(visit)
        return plan

    def _repeat(self, node, attribute: str, path: str) -> int | None:
        raw = node.get(attribute, "1")
        if not raw.isdigit() or int(raw) < 1:
            self.problem("repeat_key", path=path, key=raw)
            return None
        return int(raw)

    def _visit(self, node, parent: str, seen) -> VisitPlan | None:
        oid = node.get("StudyEventOID")
        path = f"{parent}/StudyEventData[@StudyEventOID={oid!r}]"
        visit_oid = oids.strip("SE.", oid)
        definition = self.study.visits.get(visit_oid or "")
        if definition is None:
            self.problem("unknown_oid", path=path, what="StudyEventOID", oid=oid)
            return None
        repeat = self._repeat(node, "StudyEventRepeatKey", path)
        if repeat is None:
            return None
        path = f"{path}[{repeat}]" if definition.kind is VisitKind.UNSCHEDULED else path
        if (visit_oid, repeat) in seen:
            self.problem("repeated_twice", path=path)
            return None
        seen.add((visit_oid, repeat))
        visit = VisitPlan(visit_oid, repeat)
        for flag_type, value, comment in _flags(node):
            if flag_type == oids.VISIT_DATE:
                try:
                    visit.date = date.fromisoformat(value)
                except ValueError:
                    self.problem("flag", path=path, flag_type=flag_type, value=value)
            elif flag_type == oids.OUT_OF_WINDOW:
                visit.deviation = comment
        if definition.kind is VisitKind.UNSCHEDULED and visit.date is None:
            self.problem("no_date", path=path)
        forms_seen: set[str] = set()
        for form_node in node.findall(f"{ODM}FormData"):
            form = self._form(form_node, path, definition, forms_seen)
            if form is not None:
                visit.forms.append(form)
        return visit

    def _form(self, node, parent: str, visit_def, seen: set[str]) -> FormPlan | None:
        oid = node.get("FormOID")
        path = f"{parent}/FormData[@FormOID={oid!r}]"
        form_oid = oids.strip("F.", oid) or ""
        if form_oid not in self.study.forms:
            self.problem("unknown_oid", path=path, what="FormOID", oid=oid)
            return None
        if form_oid not in visit_def.forms:
            self.problem(
                "not_in", path=path, what="form", oid=oid, parent=oids.event_oid(visit_def.oid)
            )
            return None
        if form_oid in seen or node.get("FormRepeatKey", "1") != "1":
            self.problem("repeated_twice", path=path)
            return None
        seen.add(form_oid)
        complete = False
        for flag_type, value, _ in _flags(node):
            if flag_type == oids.FORM_STATUS:
                if value not in ("draft", "complete"):
                    self.problem("flag", path=path, flag_type=flag_type, value=value)
                complete = value == "complete"
        plan = FormPlan(form_oid, complete)
        form = self.study.forms[form_oid]
        for group_node in node.findall(f"{ODM}ItemGroupData"):
            self._group(group_node, path, form, plan)
        reasons = node.iterfind(f".//{ODM}AuditRecord/{ODM}ReasonForChange")
        plan.reason = next((r.text.strip() for r in reasons if (r.text or "").strip()), None)
        return plan

    def _group(self, node, parent: str, form, plan: FormPlan) -> None:
        oid = node.get("ItemGroupOID")
        path = f"{parent}/ItemGroupData[@ItemGroupOID={oid!r}]"
        group = next((g for g in form.groups if oids.group_oid(form.oid, g.oid) == oid), None)
        if group is None:
            self.problem("unknown_oid", path=path, what="ItemGroupOID", oid=oid)
            return
        repeat = self._repeat(node, "ItemGroupRepeatKey", path)
        if repeat is None:
            return
        path = f"{path}[{repeat}]"
        if (group.oid, repeat) in plan.rows:
            self.problem("repeated_twice", path=path)
            return
        row = plan.rows[(group.oid, repeat)] = {}
        items = {oids.item_oid(form.oid, item.oid): item for item in group.items}
        for child in node:
            if not isinstance(child.tag, str):
                continue  # comments, processing instructions
            tag = _local(child)
            if tag in ("AuditRecord", "Signature", "Annotation"):
                continue
            item_path = f"{path}/{tag}[@ItemOID={child.get('ItemOID')!r}]"
            if tag != "ItemData":
                self.problem("unsupported", path=item_path, tag=tag)
                continue
            item = items.get(child.get("ItemOID"))
            if item is None:
                self.problem(
                    "unknown_oid", path=item_path, what="ItemOID", oid=child.get("ItemOID")
                )
                continue
            if item.derived:
                continue  # derived again by the write path
            value = child.get("Value")
            if value is None:
                codes = [v for t, v, _ in _flags(child) if t == oids.MISSING_CODE]
                if child.get("IsNull") != "Yes" or not codes or codes[0] not in MISSING_CODES:
                    self.problem("no_value", path=item_path)
                    continue
                value = codes[0]
            elif item.type is DataType.TIME and re.fullmatch(r"\d\d:\d\d:00", value):
                value = value[:5]  # ODM times carry seconds; the form takes HH:MM
            row[item.oid] = value
            unit_ref = child.find(f"{ODM}MeasurementUnitRef")
            if item.multi_unit and item.unit_of is None and unit_ref is not None:
                oid = unit_ref.get("MeasurementUnitOID")
                unit = next((u for u in item.measured_in if oids.unit_oid(u.symbol) == oid), None)
                if unit is None:
                    self.problem("unknown_unit", path=item_path, oid=oid)
                    continue
                row[crf_services.unit_key(item.oid)] = unit.symbol  # none: the standard unit


# --- replaying a subject through the write path ---------------------------------------------


def _replay(study: LoadedStudy, plan: SubjectPlan, actor: User | None, report) -> None:
    """Register the subject and write its visits, forms and statuses (raises DomainError
    with the subject and place in the message)."""
    try:
        subject = subjects.register_subject(plan.site, actor=actor, number=plan.number)
    except sa.exc.IntegrityError:
        raise DomainError(MESSAGES["exists"].format(path=plan.key, key=plan.key)) from None
    where = plan.key
    # The forms that end participation (death, end of study) come last, whatever their
    # place in the file: saved first, they would close the visits after them.
    deferred: list[tuple[VisitPlan, FormPlan]] = []
    try:
        for visit in plan.visits:
            where = f"{oids.event_oid(visit.oid)}[{visit.repeat}]"
            kind = study.visits[visit.oid].kind
            if kind is VisitKind.UNSCHEDULED:
                made = visits.add_unscheduled_visit(
                    study, subject, visit.oid, visit.date, actor=actor
                )
                if made.repeat_key != visit.repeat:
                    raise DomainError(
                        MESSAGES["repeat_mismatch"].format(
                            expected=visit.repeat, made=made.repeat_key
                        )
                    )
            elif visit.date is not None:
                visits.set_visit_date(
                    study,
                    subject,
                    visit.oid,
                    visit.date,
                    actor=actor,
                    deviation_reason=visit.deviation,
                )
            # The visit takes its place in the subject's calendar now (the file's order).
            subjects.ensure_visit(subject, visit.oid, visit.repeat)
            for form in visit.forms:
                if _ends_participation(study, visit.oid, form.oid):
                    deferred.append((visit, form))
                    continue
                where = f"{oids.event_oid(visit.oid)}[{visit.repeat}]/{oids.form_oid(form.oid)}"
                _save(study, subject, visit, form, actor, report)
        for visit, form in deferred:
            where = f"{oids.event_oid(visit.oid)}[{visit.repeat}]/{oids.form_oid(form.oid)}"
            _save(study, subject, visit, form, actor, report)
        where = "status"
        for status, reason in plan.statuses:
            if status is SubjectStatus.SCREEN_FAILURE and reason:
                # change_status appends the criteria it finds not met: not twice.
                reason = CRITERIA_NOTE.sub("", reason)
            subjects.change_status(
                study,
                subject,
                status,
                actor=actor,
                reason=reason or MESSAGES["status_reason"],
            )
    except DomainError as exc:
        raise DomainError(
            MESSAGES["refused_by"].format(key=plan.key, where=where, message=_explain(exc))
        ) from exc
    report.subjects += 1


def _ends_participation(study: LoadedStudy, visit_oid: str, form_oid: str) -> bool:
    definition = study.study
    ending = {".".join(ref.split(".")[:2]) for ref in definition.end_forms}
    if definition.ended_when is not None:
        ending |= {".".join(ref.split(".")[:2]) for ref in condition_items(definition.ended_when)}
    return f"{visit_oid}.{form_oid}" in ending


def _save(study, subject, visit: VisitPlan, form: FormPlan, actor, report) -> None:
    crf_services.save_form(
        study,
        subject,
        visit.oid,
        form.oid,
        form.rows,
        actor=actor,
        expected_version=0,
        reason=form.reason,
        complete=form.complete,
        visit_repeat=visit.repeat,
    )
    report.forms += 1
    report.values += sum(len(values) for values in form.rows.values())


def _explain(exc: DomainError) -> str:
    details = [
        f"{crf_services.field_path(i.group_oid, i.row_key, i.item_oid)}: {i.message}"
        for i in getattr(exc, "issues", None) or []
        if i.severity == "error"
    ]
    details += getattr(exc, "form_errors", None) or []
    # The details say it all; the general line ("Some entries need correcting") is for pages.
    return "; ".join(details) if details else exc.message
