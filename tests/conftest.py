"""Test fixtures: a separate test database built with Alembic, one rolled-back transaction per
test, persona fixtures and an HTTP client bound to the test transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from app.cli import alembic_config
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine
from app.main import create_app
from app.services.referentials.loader import load_all_referentials
from app.web.deps import get_db, request_transaction
from tests.factories import make_apprenticeship, make_cohort, make_user
from tests.helpers import FUZZ_SUMMARY, Personas
from tests.openapi_contract import check_answer

TEST_DATA_DIR = PROJECT_ROOT / "var" / "test"


def pytest_configure(config: pytest.Config) -> None:
    """The suite ignores the caller's own ``LIVRET_*`` settings (a developer's exported secret
    key or database must not change what the tests see); ``LIVRET_TEST_*`` choose the test
    database and stay."""
    for name in list(os.environ):
        if name.startswith("LIVRET_") and not name.startswith("LIVRET_TEST_"):
            del os.environ[name]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many cases the API fuzzing ran, shown even when it passes (tests/test_api_fuzz.py)."""
    lines = terminalreporter.config.stash.get(FUZZ_SUMMARY, [])
    if lines:
        terminalreporter.section("API fuzzing")
        for line in lines:
            terminalreporter.write_line(line)


def _test_database_url() -> str:
    url = os.environ.get("LIVRET_TEST_DATABASE_URL")
    if url:
        return url
    TEST_DATA_DIR.mkdir(parents=True, exist_ok=True)
    db_file = TEST_DATA_DIR / "livret-test.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db_file}"


def run_migrations(engine: Engine, *commands: tuple[str, str]) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    config.attributes["configure_logger"] = False
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        for name, revision in commands:
            getattr(command, name)(config, revision)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=_test_database_url(),
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key="test-secret-key-not-for-production",
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url, pool_size=5)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    # Build the schema the way production does, and prove the downgrade path on the way.
    run_migrations(engine, ("upgrade", "head"), ("downgrade", "base"), ("upgrade", "head"))
    from sqlalchemy.orm import Session as _Session

    with _Session(engine) as session:
        load_all_referentials(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Each test starts with empty in-process caches: ids are reused after rollbacks."""
    from app.services.progress import loader as progress
    from app.services.referentials import views as referential_view

    progress.clear_cache()
    referential_view.clear_cache()
    yield


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    session = Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    yield session
    session.close()


@pytest.fixture
def app(settings: Settings, connection: Connection) -> FastAPI:
    application = create_app(settings)

    def _test_db() -> Iterator[Session]:
        session = Session(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
        )
        yield from request_transaction(session)

    application.dependency_overrides[get_db] = _test_db
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The app over HTTP. Every answer to a documented API operation is also checked against
    the OpenAPI document (status, media type, body schema): the document tells the truth."""
    with TestClient(app, follow_redirects=False) as test_client:
        test_client.event_hooks["response"].append(lambda response: check_answer(app, response))
        yield test_client


@pytest.fixture
def personas(db: Session) -> Personas:
    admin = make_user(db, name="Ada Admin", is_admin=True)
    apprentice_a = make_user(db, name="Alice Apprentie")
    apprentice_b = make_user(db, name="Bruno Apprenti")
    tutor_a = make_user(db, name="Thomas Tuteur")
    tutor_b = make_user(db, name="Tina Tutrice")
    supervisor_a = make_user(db, name="Sophie Responsable")
    supervisor_b = make_user(db, name="Serge Responsable")
    outsider = make_user(db, name="Olivier Extérieur")
    cohort = make_cohort(db)
    appr_a = make_apprenticeship(
        db, apprentice=apprentice_a, tutor=tutor_a, supervisor=supervisor_a, cohort=cohort
    )
    appr_b = make_apprenticeship(
        db, apprentice=apprentice_b, tutor=tutor_b, supervisor=supervisor_b, cohort=cohort
    )
    return Personas(
        admin,
        apprentice_a,
        apprentice_b,
        tutor_a,
        tutor_b,
        supervisor_a,
        supervisor_b,
        outsider,
        appr_a,
        appr_b,
    )
