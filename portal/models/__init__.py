"""The portal store's models; importing this package registers every table on `Base.metadata`."""

from portal.models.audit import AuditChainHead, AuditEvent, AuditImmutableError
from portal.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from portal.models.identity import Group, PasswordHistory, Role, User, group_members, user_roles
from portal.models.org import Branch, Department
from portal.models.resources import Favorite, Grant, Resource, UserSetting, View
from portal.models.sso import SsoTokenUse

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "AuditImmutableError",
    "Base",
    "Branch",
    "Department",
    "Favorite",
    "Grant",
    "Group",
    "PasswordHistory",
    "Resource",
    "Role",
    "SsoTokenUse",
    "TimestampMixin",
    "UTCDateTime",
    "User",
    "UserSetting",
    "View",
    "group_members",
    "user_roles",
    "utcnow",
]
