"""The registry of job kinds: what a user may ask to run in the background.

Registering an extract is one line at the bottom of this module::

    register(JobKind("csv", "CSV bundle (one file per form, zipped)", (Perm.EXPORT_DATA,),
                     "ecrf.exports.csv:write_csv", filename="extract-csv.zip"))

``run`` is the extract's function (or its "module:function" path, imported when first
run), with the signature ``run(out, *, site_ids, actor, progress) -> Path``, or
``run(study, out, *, site_ids, actor, progress) -> Path`` for a kind that ``takes_study``
(the runner passes the running study): it writes under ``out`` (the file ``filename`` when
given, else an empty folder), reports progress, records and commits its audit event, and
returns the result's path (a folder is zipped).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecrf.auth.roles import Perm

Run = Callable[..., Path]


@dataclass(frozen=True)
class JobKind:
    name: str
    #: Shown in the kind list and on the jobs page.
    label: str
    #: Every permission the user must hold at each site of the extract's scope.
    perms: tuple[Perm, ...]
    run: Run | str
    #: Name of the single result file; None: the extract writes into a folder.
    #: "{subject}" in it is the subject of a per-subject kind.
    filename: str | None = None
    #: About one subject (started from its page, not from "New extract"): ``run`` also
    #: takes ``subject=`` (its identifier), and the job's site is the subject's.
    per_subject: bool = False
    #: ``run`` takes the study it works on first: the runner passes the running one.
    takes_study: bool = False
    #: ``run`` also takes ``params=`` (the job row's ``params``) and ``job_id=`` (to count
    #: its progress inside its own transactions, as the demo seeding does).
    takes_params: bool = False
    #: Started by the application itself (the demo seeding), never from "New extract".
    internal: bool = False

    def function(self) -> Run:
        if callable(self.run):
            return self.run
        module, _, attribute = self.run.partition(":")
        return getattr(importlib.import_module(module), attribute)


KINDS: dict[str, JobKind] = {}
#: The demo seeding's kind (`ecrf demo`; registered below).
DEMO_KIND = "demo"


def register(kind: JobKind) -> JobKind:
    KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    KINDS.pop(name, None)


def get_kind(name: Any) -> JobKind | None:
    return KINDS.get(name) if isinstance(name, str) else None


# The trail holds every clinical value as entered: data managers (audit and export
# rights); not administrators, who see the trail's accounts but no clinical data, nor the
# sponsor, who sees no free text.
register(
    JobKind(
        "audit",
        "Audit trail (CSV, one row per event)",
        (Perm.VIEW_AUDIT, Perm.EXPORT_DATA),
        "ecrf.exports.audit_trail:write_audit_trail",
        filename="audit-trail.csv",
    )
)
register(
    JobKind(
        "csv",
        "CSV bundle (one tidy file per form, long file, dictionary, manifest; zipped)",
        (Perm.EXPORT_DATA,),
        "ecrf.exports.csv_bundle:write_csv_bundle",
        takes_study=True,
    )
)
register(
    JobKind(
        "odm",
        "CDISC ODM 1.3.2 (XML: metadata and clinical data with their audit records)",
        (Perm.EXPORT_DATA,),
        "ecrf.exports.odm.writer:write_odm",
        filename="study-odm.xml",
        takes_study=True,
    )
)
register(
    JobKind(
        "sdtm",
        "SDTM datasets (CSV, SAS transport, Dataset-JSON, define.xml; zipped)",
        (Perm.EXPORT_DATA,),
        "ecrf.exports.sdtm.service:write_sdtm",
        takes_study=True,
    )
)

# Reports: a subject's casebook (from its page), the site's casebooks (the investigator's copy).
register(
    JobKind(
        "casebook",
        "Subject casebook (PDF/A with the subject's ODM file)",
        (Perm.DOWNLOAD_REPORTS,),
        "ecrf.reporting.casebook_jobs:write_casebook",
        filename="casebook-{subject}.pdf",
        per_subject=True,
    )
)
register(
    JobKind(
        "casebooks",
        "Investigator's copy: every casebook of the site (PDF/A files and manifest; zipped)",
        (Perm.DOWNLOAD_REPORTS,),
        "ecrf.reporting.casebook_jobs:write_site_casebooks",
    )
)

# `ecrf demo`: the demo patients and the monitoring of them, seeded while the app serves.
register(
    JobKind(
        DEMO_KIND,
        "Demo data (synthetic patients through the write path, then their monitoring)",
        (),
        "ecrf.demo_seeding:run_demo_seeding",
        filename="demo-seeding.txt",
        takes_study=True,
        takes_params=True,
        internal=True,
    )
)
