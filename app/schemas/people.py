"""People schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.models import Party
from app.schemas.common import ReadModel, SafeStr, WriteModel
from app.services import validation
from app.services.people import rules as people_rules

Language = Literal["fr", "en"]


class RoleRead(ReadModel):
    apprenticeship_id: int
    roles: list[Party]


class MeRead(ReadModel):
    """The caller, and what they are to each apprenticeship they take part in."""

    id: int
    email: str
    full_name: str
    locale: str
    is_admin: bool
    apprenticeships: list[RoleRead]


class InvitationRead(ReadModel):
    """An invitation just sent: the person gets an email in their language with a link, valid
    ``valid_days``, to choose a password (the previous link, if any, stops working)."""

    user_id: int
    email: str
    locale: str
    status: str  # the account's status: "invited"
    invited_at: datetime
    valid_days: int


class SkippedInvitation(ReadModel):
    user_id: int
    reason: str


class InvitationBatchRead(ReadModel):
    """Invitations sent to several people at once, and who was skipped (with the reason)."""

    sent: list[int]
    skipped: list[SkippedInvitation]


class UserRead(ReadModel):
    id: int
    email: str
    full_name: str
    locale: str
    is_admin: bool
    is_active: bool
    has_password: bool = Field(description="False until a password is set: no sign-in yet.")
    status: str = Field(description="`new`, `invited`, `active` or `deactivated`.")
    invited_at: datetime | None
    last_login_at: datetime | None


class UserPageRead(ReadModel):
    """One page of accounts, by name."""

    items: list[UserRead]
    total: int
    page: int
    pages: int
    q: str


class UserDetailRead(UserRead):
    """An account and its roles: administrator, and what they are to each apprenticeship."""

    apprenticeships: list[RoleRead]


_EMAIL = Field(min_length=1, max_length=254)
_NAME = Field(min_length=1, max_length=validation.NAME_MAX)


class UserCreate(WriteModel):
    email: SafeStr = _EMAIL
    full_name: SafeStr = _NAME
    locale: Language | None = Field(
        default=None, description="The person's language; the school's when left out."
    )
    is_admin: bool = False
    password: SafeStr = Field(
        default="",
        max_length=people_rules.PASSWORD_MAX,
        description="Optional: without one the person cannot sign in until it is set "
        "(or until they accept an invitation).",
    )
    invite: bool = Field(
        default=False,
        description="Email an invitation to choose a password (7 days), in the person's "
        "language; only without `password`.",
    )


class UserUpdate(WriteModel):
    """The fields to change; the others stay as they are."""

    email: SafeStr | None = Field(default=None, min_length=1, max_length=254)
    full_name: SafeStr | None = Field(default=None, min_length=1, max_length=validation.NAME_MAX)
    locale: Language | None = None
    is_admin: bool | None = None
