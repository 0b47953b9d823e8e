"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from ecrf.api.models import ApiToken
from ecrf.audit.models import AuditEvent, AuditHead
from ecrf.auth.models import LoginThrottle, RoleAssignment, User
from ecrf.dashboards.models import MonitoringVisit
from ecrf.jobs.models import Job
from ecrf.laboratories.models import Laboratory, ReferenceRange
from ecrf.locks.models import DataLock
from ecrf.queries.models import Query, QueryMessage
from ecrf.records.models import (
    DefinitionVersion,
    Finding,
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Site,
    Subject,
    SubjectVisit,
)
from ecrf.resume.models import PendingSubmission
from ecrf.review.models import ReviewMark
from ecrf.sdv.models import SitePlan, SourceVerification
from ecrf.signatures.models import Signature

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "DataLock",
    "DefinitionVersion",
    "Finding",
    "FormEntry",
    "ItemGroupRow",
    "ItemValue",
    "Job",
    "Laboratory",
    "LoginThrottle",
    "MonitoringVisit",
    "PendingSubmission",
    "Query",
    "QueryMessage",
    "ReferenceRange",
    "ReviewMark",
    "RoleAssignment",
    "Signature",
    "Site",
    "SitePlan",
    "SourceVerification",
    "Subject",
    "SubjectVisit",
    "User",
]
