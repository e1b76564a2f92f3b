"""Identity: users, roles, groups and password history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, TimestampMixin, one_of, utcnow
from portal.models.org import Branch, Department

LANGUAGES = ("zh_CN", "en")
ROLE_SCOPES = ("all", "branch", "none")

user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True),
)

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Role(Base):
    """A role; `scope` 'all' sees every row, 'branch' the user's branch subtree, 'none' no data."""

    __tablename__ = "roles"
    __table_args__ = (one_of("scope", ROLE_SCOPES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16), default="branch", server_default="branch")

    def __repr__(self) -> str:
        return f"<Role {self.code}>"


class User(TimestampMixin, Base):
    """A portal account; also the object Flask-Login keeps as the current user."""

    __tablename__ = "users"
    __table_args__ = (one_of("language", LANGUAGES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    employee_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.branch_id"), index=True)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    locked_until: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    # Start of the current window of failed logins (lock-out counts failures within it).
    failed_logins_since: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(64))

    branch: Mapped[Branch] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")
    groups: Mapped[list[Group]] = relationship(secondary=group_members, back_populates="members")

    # Flask-Login's user protocol (without UserMixin, whose __eq__ would unhash instances).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def role_codes(self) -> set[str]:
        """Return the codes of the user's roles."""
        return {role.code for role in self.roles}

    def has_role(self, *codes: str) -> bool:
        """Return whether the user holds any of the given roles."""
        return not self.role_codes.isdisjoint(codes)

    def is_locked(self, now: datetime | None = None) -> bool:
        """Return whether the account is locked out at `now`."""
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Group(TimestampMixin, Base):
    """A group of users (群组) that resources can be shared with."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    members: Mapped[list[User]] = relationship(secondary=group_members, back_populates="groups")

    def __repr__(self) -> str:
        return f"<Group {self.name}>"


class PasswordHistory(Base):
    """A password hash a user has had, kept so that recent passwords are not reused."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
