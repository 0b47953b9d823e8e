"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from ecrf.audit.models import AuditEvent, AuditHead
from ecrf.auth.models import LoginThrottle, RoleAssignment, User
from ecrf.study.models import Site

__all__ = ["AuditEvent", "AuditHead", "LoginThrottle", "RoleAssignment", "Site", "User"]
