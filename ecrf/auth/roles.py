"""Roles and permissions: the trial's delegation log, as data."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SITE_STAFF = "site_staff"
    INVESTIGATOR = "investigator"
    MONITOR = "monitor"
    DATA_MANAGER = "data_manager"
    SPONSOR = "sponsor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.SITE_STAFF: "Site staff",
    Role.INVESTIGATOR: "Investigator",
    Role.MONITOR: "Monitor",
    Role.DATA_MANAGER: "Data manager",
    Role.SPONSOR: "Sponsor",
    Role.ADMIN: "Administrator",
}

#: Roles that only make sense for every site at once.
ALL_SITES_ONLY = frozenset({Role.ADMIN})

# Separation of duties: those who run the system or manage accounts and data (and could
# otherwise grant themselves, or be granted by a colleague, the right to enter and sign
# clinical data) never also hold a data-entry or signing role, and the reverse. One person
# needing both gets two individual accounts, each with its own audit trail.
#: Roles that run the system, manage accounts or lock data.
OVERSIGHT_ROLES = frozenset({Role.ADMIN, Role.DATA_MANAGER})
#: Roles that enter or sign clinical data.
DATA_ENTRY_ROLES = frozenset({Role.SITE_STAFF, Role.INVESTIGATOR})


class Perm(StrEnum):
    VIEW_SUBJECTS = "view_subjects"
    ENTER_DATA = "enter_data"
    SIGN = "sign"
    DECIDE_STATUS = "decide_status"
    RAISE_QUERY = "raise_query"
    ANSWER_QUERY = "answer_query"
    VERIFY_SOURCE = "verify_source"
    PLAN_VERIFICATION = "plan_verification"
    LOCK_DATA = "lock_data"
    DOWNLOAD_REPORTS = "download_reports"
    EXPORT_DATA = "export_data"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_SITES = "manage_sites"
    MANAGE_LABORATORIES = "manage_laboratories"

    @property
    def label(self) -> str:
        return PERM_LABELS[self]


PERM_LABELS = {
    Perm.VIEW_SUBJECTS: "See subjects and their case report forms",
    Perm.ENTER_DATA: "Register subjects and enter or correct visit data",
    Perm.SIGN: "Sign case report forms as investigator",
    Perm.DECIDE_STATUS: "Decide inclusion, screen failure and withdrawal",
    Perm.RAISE_QUERY: "Raise and close data queries",
    Perm.ANSWER_QUERY: "Answer data queries",
    Perm.VERIFY_SOURCE: "Mark data as source-verified",
    Perm.PLAN_VERIFICATION: "Set a site's share of subjects to verify",
    Perm.LOCK_DATA: "Lock and unlock data",
    Perm.DOWNLOAD_REPORTS: "Download PDF case reports",
    Perm.EXPORT_DATA: "Download CSV and CDISC extracts",
    Perm.VIEW_AUDIT: "Review the audit trail",
    Perm.MANAGE_USERS: "Create accounts and assign roles",
    Perm.MANAGE_SITES: "Add and edit sites",
    Perm.MANAGE_LABORATORIES: "Declare laboratories and their normal ranges",
}

# Administrators run the system but see no clinical data; sponsors see data without
# direct identifiers and cannot change it; only investigators sign (STUDY.md, "Users").
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.SITE_STAFF: frozenset({Perm.VIEW_SUBJECTS, Perm.ENTER_DATA, Perm.ANSWER_QUERY}),
    Role.INVESTIGATOR: frozenset(
        {
            Perm.VIEW_SUBJECTS,
            Perm.ENTER_DATA,
            Perm.ANSWER_QUERY,
            Perm.SIGN,
            Perm.DECIDE_STATUS,
            Perm.DOWNLOAD_REPORTS,
            Perm.VIEW_AUDIT,
        }
    ),
    Role.MONITOR: frozenset(
        {
            Perm.VIEW_SUBJECTS,
            Perm.RAISE_QUERY,
            Perm.VERIFY_SOURCE,
            Perm.DOWNLOAD_REPORTS,
            Perm.VIEW_AUDIT,
        }
    ),
    Role.DATA_MANAGER: frozenset(
        {
            Perm.VIEW_SUBJECTS,
            Perm.RAISE_QUERY,
            Perm.LOCK_DATA,
            Perm.PLAN_VERIFICATION,
            Perm.DOWNLOAD_REPORTS,
            Perm.EXPORT_DATA,
            Perm.VIEW_AUDIT,
            Perm.MANAGE_USERS,
            Perm.MANAGE_LABORATORIES,
        }
    ),
    Role.SPONSOR: frozenset({Perm.VIEW_SUBJECTS, Perm.EXPORT_DATA}),
    Role.ADMIN: frozenset(
        {Perm.MANAGE_USERS, Perm.MANAGE_SITES, Perm.MANAGE_LABORATORIES, Perm.VIEW_AUDIT}
    ),
}
