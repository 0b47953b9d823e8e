"""User accounts, role assignments and sign-in throttling."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.auth.roles import Role
from ecrf.db import Base, utcnow
from ecrf.records.models import Site


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(Base):
    """A person's individual account. Never deleted, so a username is never reused."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-case; unique for ever (deactivated accounts keep theirs).
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when someone else chose the password: only its owner should know it (R9).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    #: Rotated at sign-out, deactivation and password change: older session cookies die.
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user",
        order_by="RoleAssignment.id",
        foreign_keys="RoleAssignment.user_id",
    )

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class RoleAssignment(Base):
    """A role held by a user at one site, or at every site when ``site_id`` is NULL."""

    __tablename__ = "role_assignment"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])
    site: Mapped[Site | None] = relationship()

    @property
    def scope_label(self) -> str:
        return self.site.code if self.site else "all sites"


#: The ``source`` (or ``username``) of a counter that spans every source (or username).
ANY = ""


class LoginThrottle(Base):
    """Failed sign-ins counted per (typed username, source address), per source address
    (``username`` = ANY) and per username from every source (``source`` = ANY).

    Keyed by the typed username rather than the account so that an unknown name behaves
    exactly like a real one: the answer never tells whether an account exists.
    """

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    #: The client's address as the app sees it (after ProxyFix, when configured).
    source: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    #: A successful sign-in from this source: the source is one the user is known to use.
    last_success_at: Mapped[datetime | None]
