"""People schemas."""

from __future__ import annotations

from datetime import datetime

from app.models import Party
from app.schemas.common import ReadModel


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
