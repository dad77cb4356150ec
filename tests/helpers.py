"""Helpers shared by the whole suite (fixtures live in conftest.py): signing in, CSRF tokens,
API tokens, form posts, row counts, minimal real files and the fuzzing's summary lines."""

from __future__ import annotations

import secrets
import struct
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import ApiToken, Apprenticeship, User
from app.models.base import utcnow
from app.services.people import auth as auth_service
from app.services.people.auth import token_digest
from app.web.csrf import SESSION_COOKIE, csrf_token_for

HX = {"HX-Request": "true"}
# Lines that tests/test_api_fuzz.py reports; conftest.py prints them in the terminal summary.
FUZZ_SUMMARY = pytest.StashKey[list[str]]()


@dataclass
class Personas:
    admin: User
    apprentice_a: User
    apprentice_b: User
    tutor_a: User
    tutor_b: User
    supervisor_a: User
    supervisor_b: User
    outsider: User
    apprenticeship_a: Apprenticeship
    apprenticeship_b: Apprenticeship


def login_as(client: TestClient, db: Session, settings: Settings, user: User) -> TestClient:
    """Open a server-side session for ``user`` directly (no argon2 round-trip)."""
    token = auth_service.open_session(db, settings, user, ip="127.0.0.1", user_agent="pytest")
    db.flush()
    client.cookies.set(SESSION_COOKIE, token)
    return client


def csrf_for(client: TestClient, settings: Settings) -> str:
    seed = client.cookies.get(SESSION_COOKIE) or client.cookies.get("livret_csrf")
    assert seed, "visit a page first so the browser has a CSRF cookie"
    return csrf_token_for(settings.effective_secret_key, seed)


def bearer(db: Session, user: User) -> dict[str, str]:
    """Authorization header with a fresh API token for ``user`` (created directly)."""
    raw = "lvt_" + secrets.token_urlsafe(24)
    db.add(
        ApiToken(
            token_hash=token_digest(raw), user_id=user.id, expires_at=utcnow() + timedelta(days=1)
        )
    )
    db.flush()
    return {"Authorization": f"Bearer {raw}"}


def post_form(
    client: TestClient,
    settings: Settings,
    url: str,
    data: dict[str, Any] | None = None,
    *,
    htmx: bool = False,
    **kw: Any,
) -> Any:
    """POST a form with the browser's CSRF token (and the htmx header when ``htmx``)."""
    if htmx:
        kw["headers"] = {**HX, **kw.get("headers", {})}
    return client.post(url, data={**(data or {}), "csrf_token": csrf_for(client, settings)}, **kw)


def count_rows(db: Session, model: Any, *where: Any) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- Real minimal files -----------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes() -> bytes:
    """A valid 1×1 greyscale PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def pdf_bytes(padding: int = 0) -> bytes:
    body = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n"
    return body + b"%" + b"0" * padding + b"\n%%EOF\n"
