"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from ecrf.api.models import ApiToken
from ecrf.audit.models import AuditEvent, AuditHead
from ecrf.auth.models import LoginThrottle, RoleAssignment, User
from ecrf.jobs.models import Job
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
from ecrf.sdv.models import SitePlan, SourceVerification

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "DefinitionVersion",
    "Finding",
    "FormEntry",
    "ItemGroupRow",
    "ItemValue",
    "Job",
    "LoginThrottle",
    "PendingSubmission",
    "Query",
    "QueryMessage",
    "RoleAssignment",
    "Site",
    "SitePlan",
    "SourceVerification",
    "Subject",
    "SubjectVisit",
    "User",
]
