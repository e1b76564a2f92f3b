"""The portal store's models; importing this package registers every table on `Base.metadata`."""

from portal.models.audit import AuditChainHead, AuditEvent, AuditImmutableError
from portal.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from portal.models.home import Announcement, RoleSetting
from portal.models.identity import Group, PasswordHistory, Role, User, group_members, user_roles
from portal.models.org import Branch, Department
from portal.models.resources import Favorite, Grant, Resource, UserSetting, View
from portal.models.social import (
    AccessRequest,
    ApiToken,
    Message,
    Post,
    PostComment,
    PostLike,
    Share,
)
from portal.models.sso import SsoTokenUse
from portal.models.store import (
    Answer,
    AnswerVote,
    AppComment,
    AppInstall,
    AppLike,
    AppRating,
    Question,
    StoreApp,
)

__all__ = [
    "AccessRequest",
    "Announcement",
    "Answer",
    "AnswerVote",
    "ApiToken",
    "AppComment",
    "AppInstall",
    "AppLike",
    "AppRating",
    "AuditChainHead",
    "AuditEvent",
    "AuditImmutableError",
    "Base",
    "Branch",
    "Department",
    "Favorite",
    "Grant",
    "Group",
    "Message",
    "PasswordHistory",
    "Post",
    "PostComment",
    "PostLike",
    "Question",
    "Resource",
    "Role",
    "RoleSetting",
    "Share",
    "SsoTokenUse",
    "StoreApp",
    "TimestampMixin",
    "UTCDateTime",
    "User",
    "UserSetting",
    "View",
    "group_members",
    "user_roles",
    "utcnow",
]
