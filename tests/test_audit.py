"""The audit log is append-only and hash-chained."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.services import audit


def _disable_append_only(db: Session) -> None:
    """Simulate an attacker with direct database access (inside the test transaction)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"))
    else:
        db.execute(text("DROP TRIGGER audit_events_no_update"))
        db.execute(text("DROP TRIGGER audit_events_no_delete"))


def test_events_chain_and_verify(db: Session) -> None:
    first = audit.record(db, "test.one", details={"n": 1})
    second = audit.record(db, "test.two", details={"n": 2, "texte": "éàü"})
    assert second.prev_hash == first.hash
    report = audit.verify_chain(db)
    assert report.ok and report.checked >= 2


def test_database_refuses_update_and_delete(db: Session) -> None:
    event = audit.record(db, "test.immutable")
    db.commit()  # releases the savepoint; the outer test transaction is still rolled back
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(text("UPDATE audit_events SET action = 'x' WHERE id = :id"), {"id": event.id})
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})


def test_tampered_content_is_reported_at_the_first_broken_event(db: Session) -> None:
    audit.record(db, "test.a")
    target = audit.record(db, "test.b", details={"amount": 1})
    audit.record(db, "test.c")
    _disable_append_only(db)
    db.execute(
        text("UPDATE audit_events SET action = 'test.forged' WHERE id = :id"), {"id": target.id}
    )
    report = audit.verify_chain(db)
    assert not report.ok
    assert report.broken_event_id == target.id
    assert report.reason == "content altered"


def test_deleted_event_breaks_the_link(db: Session) -> None:
    audit.record(db, "test.a")
    victim = audit.record(db, "test.b")
    follower = audit.record(db, "test.c")
    _disable_append_only(db)
    db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": victim.id})
    report = audit.verify_chain(db)
    assert not report.ok and report.broken_event_id == follower.id


def test_canonical_content_rejects_floats() -> None:
    from app.services.canonical import canonical_bytes

    assert canonical_bytes({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    with pytest.raises(TypeError):
        canonical_bytes({"level": 2.5})
