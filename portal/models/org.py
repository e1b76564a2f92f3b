"""Organisation: branches (mirroring the warehouse's `dim_branch`) and departments."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, one_of

BRANCH_LEVELS = ("head_office", "branch", "sub_branch")


class Branch(Base):
    """A node of the bank's hierarchy: head office, branch (分行) or sub-branch (支行)."""

    __tablename__ = "branches"
    __table_args__ = (one_of("level", BRANCH_LEVELS),)

    branch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("branches.branch_id"), index=True)

    parent: Mapped[Branch | None] = relationship(remote_side=[branch_id], back_populates="children")
    children: Mapped[list[Branch]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Branch {self.branch_id}>"


class Department(Base):
    """A head-office department (部门) such as 个金部 or 科技部."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"<Department {self.code}>"
