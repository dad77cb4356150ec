"""The ``livret`` command line against a real SQLite file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import make_engine
from app.models import Apprenticeship, Competency, Organisation, User
from app.services.people.passwords import verify_password

runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LIVRET_DATABASE_URL", url)
    monkeypatch.setenv("LIVRET_DATA_DIR", str(tmp_path))
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return url


def _count(url: str, model) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return n


def test_seed_referentials_twice_is_idempotent(cli_db: str) -> None:
    first = runner.invoke(cli, ["seed", "referentials"])
    assert first.exit_code == 0 and "created" in first.output
    competencies = _count(cli_db, Competency)
    assert competencies == 33 + 28 + 3
    second = runner.invoke(cli, ["seed", "referentials"])
    assert second.exit_code == 0 and "nothing changed" in second.output
    assert _count(cli_db, Competency) == competencies


def test_seed_demo_twice_creates_one_school_and_prints_logins(cli_db: str) -> None:
    runner.invoke(cli, ["seed", "referentials"])
    first = runner.invoke(cli, ["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "admin@ecole-demo.example" in first.output and "livret-demo-2026" in first.output
    for role in ("apprentice", "tutor", "supervisor"):
        assert role in first.output
    users, apprenticeships = _count(cli_db, User), _count(cli_db, Apprenticeship)
    assert apprenticeships == 12
    assert _count(cli_db, Organisation) == 5  # the school and four companies
    second = runner.invoke(cli, ["seed", "demo"])
    assert second.exit_code == 0 and "already present" in second.output
    assert (_count(cli_db, User), _count(cli_db, Apprenticeship)) == (users, apprenticeships)
    assert runner.invoke(cli, ["audit", "verify"]).output.startswith("Audit chain holds")


def test_seed_demo_without_referentials_fails_clearly(cli_db: str) -> None:
    result = runner.invoke(cli, ["seed", "demo"])
    assert result.exit_code != 0


def test_user_create_and_set_password(cli_db: str) -> None:
    args = [
        "user",
        "create",
        "--email",
        "New@School.example",
        "--name",
        "Nina Nouvelle",
        "--password",
        "a long enough password",
        "--admin",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    duplicate = runner.invoke(cli, args)
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    short = runner.invoke(
        cli, ["user", "set-password", "--email", "new@school.example", "--password", "short"]
    )
    assert short.exit_code == 2
    ok = runner.invoke(
        cli,
        [
            "user",
            "set-password",
            "--email",
            "new@school.example",
            "--password",
            "another long password",
        ],
    )
    assert ok.exit_code == 0
    engine = make_engine(cli_db)
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.email == "new@school.example")).one()
        assert user.is_admin
        assert verify_password(user.password_hash, "another long password")
    engine.dispose()


def test_attachments_sweep_lists_then_deletes(cli_db: str, tmp_path: Path) -> None:
    directory = tmp_path / "attachments"  # LIVRET_DATA_DIR is tmp_path
    directory.mkdir()
    orphan = directory / ("ef" * 16)
    orphan.write_bytes(b"%PDF-")
    day_ago = time.time() - 25 * 3600
    os.utime(orphan, (day_ago, day_ago))
    listed = runner.invoke(cli, ["attachments", "sweep"])
    assert listed.exit_code == 0, listed.output
    assert f"Unreferenced: {orphan}" in listed.output and "--delete" in listed.output
    assert orphan.exists()
    removed = runner.invoke(cli, ["attachments", "sweep", "--delete"])
    assert removed.exit_code == 0 and f"Removed: {orphan}" in removed.output
    assert not orphan.exists()
    assert runner.invoke(cli, ["attachments", "sweep", "--min-age-hours", "0"]).exit_code == 2


def test_mail_purge_reports_and_refuses_a_zero_age(cli_db: str) -> None:
    result = runner.invoke(cli, ["mail", "purge", "--older-than-days", "30"])
    assert result.exit_code == 0, result.output
    assert "Mail: 0 sent or failed message(s) older than 30 days deleted." in result.output
    assert runner.invoke(cli, ["mail", "purge", "--older-than-days", "0"]).exit_code == 2
