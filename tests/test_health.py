"""GET /healthz pings the database."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def test_healthz_ok(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, secret_key="x" * 32)
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_unavailable_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        secret_key="x" * 32,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_production_refuses_the_default_secret(tmp_path: Path) -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="LIVRET_SECRET_KEY"):
        Settings(environment="production", data_dir=tmp_path)


def test_development_generates_a_secret_once(tmp_path: Path) -> None:
    first = Settings(environment="development", data_dir=tmp_path).effective_secret_key
    second = Settings(environment="development", data_dir=tmp_path).effective_secret_key
    assert first == second and len(first) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
