"""What a reader of an extract may receive: the sponsor gets no direct identifier.

Subjects are known by their pseudonymous code (SITE-NNN) and the birth date is kept as a
month and year, so the only place a name, an address or a hospital number could slip in is
a free-text item (a comment, an "other, specify"). Those are withheld from the sponsor's
extracts and API reads; the data dictionary flags them, which proves what was left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrf.auth.roles import Role
from forms.language import DataType, Item

if TYPE_CHECKING:
    from ecrf.auth.models import User

#: Roles that see the clinical data as the sites entered it, free text included.
FULL_DATA_ROLES = frozenset({Role.SITE_STAFF, Role.INVESTIGATOR, Role.MONITOR, Role.DATA_MANAGER})


def is_free_text(item: Item) -> bool:
    """Whether the item takes free text (which may name a person), not a code or a number."""
    return item.type is DataType.TEXT and item.codelist is None


def withholds_free_text(user: User | None) -> bool:
    """Whether free-text items must be withheld from what ``user`` reads.

    The command-line operator (None) already holds the database and gets everything; an
    account gets free text only through a role that sees the sites' data as entered.
    """
    if user is None:
        return False
    return not any(assignment.role in FULL_DATA_ROLES for assignment in user.roles)
