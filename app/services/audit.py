"""The append-only, hash-chained audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditChainHead, AuditEvent, User
from app.models.base import utcnow
from app.services.canonical import sha256_hex

GENESIS_HASH = "0" * 64
_BATCH = 2000


def _event_content(event: AuditEvent) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_email": event.actor_email,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "details": event.details,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    entity_type: str | None = None,
    entity_id: object | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    actor_email: str | None = None,
) -> AuditEvent:
    """Append one event. The chain head row is locked so concurrent writers queue up."""
    head = session.scalars(
        select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    ).one_or_none()
    if head is None:
        head = AuditChainHead(id=1, last_event_id=None, last_hash=GENESIS_HASH)
        session.add(head)
    event = AuditEvent(
        occurred_at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else actor_email,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        details=details or {},
        ip=ip,
        prev_hash=head.last_hash,
    )
    event.hash = sha256_hex(_event_content(event))
    session.add(event)
    session.flush()
    head.last_event_id = event.id
    head.last_hash = event.hash
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_event_id: int | None = None
    reason: str | None = None


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain in id order; report the first event whose link or content is broken."""
    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        batch = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(_BATCH)
            .execution_options(populate_existing=True)  # what is stored, not what we cached
        ).all()
        if not batch:
            break
        for event in batch:
            if event.prev_hash != prev:
                return ChainReport(False, checked, event.id, "previous-hash link broken")
            if sha256_hex(_event_content(event)) != event.hash:
                return ChainReport(False, checked, event.id, "content altered")
            prev = event.hash
            checked += 1
            last_id = event.id
    head = session.get(AuditChainHead, 1)
    if head is not None and head.last_hash != prev:
        return ChainReport(False, checked, head.last_event_id, "events missing at the end")
    return ChainReport(True, checked)
