"""Request throttling over a sliding window, for requests that send mail to an address typed
by anyone (password resets, new invitations).

Each request is counted per *key* (the address as typed, or the client IP), whether or not an
account exists, so being throttled says nothing about accounts. Events older than the longest
window are deleted as new ones arrive.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import ThrottleEvent
from app.models.base import utcnow

KEY_MAX = 254
_KEEP = timedelta(days=1)


def recent(session: Session, kind: str, key: str, *, window_minutes: int) -> int:
    since = utcnow() - timedelta(minutes=window_minutes)
    return int(
        session.scalar(
            select(func.count(ThrottleEvent.id)).where(
                ThrottleEvent.kind == kind,
                ThrottleEvent.key == key[:KEY_MAX],
                ThrottleEvent.created_at >= since,
            )
        )
        or 0
    )


def allow(session: Session, kind: str, limits: dict[str, int], *, window_minutes: int) -> bool:
    """Whether one more request may go through under every ``{key: limit}``; if so, count it
    against each key. A refused request is not counted, so a window always ends."""
    keys = {key[:KEY_MAX]: limit for key, limit in limits.items() if key}
    if any(
        recent(session, kind, key, window_minutes=window_minutes) >= limit
        for key, limit in keys.items()
    ):
        return False
    session.execute(delete(ThrottleEvent).where(ThrottleEvent.created_at < utcnow() - _KEEP))
    session.add_all(ThrottleEvent(kind=kind, key=key) for key in keys)
    session.flush()
    return True
