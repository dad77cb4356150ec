"""Test helpers for email: a real SMTP server in-process (aiosmtpd), an app and sessions that
carry chosen settings, and readers for the outbox and for received messages."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import create_app
from app.models import OutboxMessage
from app.web.deps import get_db, request_transaction

BASE_URL = "https://livret.example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class Collector:
    """An aiosmtpd handler that keeps what it receives, or answers ``reply`` to DATA."""

    received: list[Received] = field(default_factory=list)
    reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


@contextmanager
def smtp_server() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def with_smtp(settings: Settings, port: int, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_timeout_seconds": 5,
            "base_url": BASE_URL,
            **changes,
        }
    )


def session_factory(connection: Connection, settings: Settings) -> Callable[[], Session]:
    """Sessions like the app's (settings in ``info``), inside the test's transaction."""

    def make() -> Session:
        return Session(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
            info={"settings": settings},
        )

    return make


def app_with(settings: Settings, connection: Connection) -> FastAPI:
    application = create_app(settings)
    make = session_factory(connection, settings)

    def _test_db() -> Iterator[Session]:
        yield from request_transaction(make())

    application.dependency_overrides[get_db] = _test_db
    return application


def outbox(db: Session, *, kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    if to:
        stmt = stmt.where(OutboxMessage.to_address == to)
    return list(db.scalars(stmt.execution_options(populate_existing=True)))
