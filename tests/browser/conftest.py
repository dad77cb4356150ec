"""Browser fixtures: a live Livret on a fresh SQLite file, a small known data set, and Debian's
Chromium driven by Playwright (never a downloaded browser).

The server runs in a background thread of the test process (uvicorn on 127.0.0.1, a free port),
so a test can prepare data straight through the service layer with ``live_server.session()``.
The server and the browser live as long as this package's tests: they are stopped before the
rest of the suite runs, so no event loop of theirs is left ticking beside the other tests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
import pytest
import uvicorn
from alembic import command
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.cli import alembic_config
from app.config import Settings
from app.db import make_engine, make_session_factory
from app.main import create_app
from app.models import Party, User
from app.services.referentials.loader import load_all_referentials
from app.services.referentials.views import referential_for
from app.services.reviews import workflow as review_service
from app.services.reviews.workflow import RatingInput
from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, SCREENSHOT_DIR, BrowserSession
from tests.factories import PASSWORD, certification, make_apprenticeship, make_cohort, make_user

SERVER_START_TIMEOUT = 30.0


# --- Data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    full_name: str
    password: str = PASSWORD


@dataclass(frozen=True)
class Trio:
    """One apprenticeship and its three parties."""

    apprenticeship_id: int
    apprentice: Person
    tutor: Person
    supervisor: Person

    def party(self, role: str) -> Person:
        person: Person = getattr(self, role)
        return person

    @property
    def review_url(self) -> str:
        return f"/apprenticeships/{self.apprenticeship_id}/reviews/1"


@dataclass(frozen=True)
class World:
    """The known data set. Each scenario has its own people, so tests never depend on order
    (a language switch, for one, is stored on the account)."""

    admin: Person
    showcase: Trio  # read-only pages for the accessibility checks, a few ratings filled in
    locked: Trio  # semester 1 agreed, signed by all three and locked
    journey_fr: Trio
    journey_en: Trio
    conflict: Trio
    competency_ids: dict[str, int] = field(default_factory=dict)  # RNCP39303 code -> id
    block_sizes: dict[str, int] = field(default_factory=dict)  # RNCP39303 block code -> size

    def cid(self, code: str) -> int:
        return self.competency_ids[f"RNCP39303{code}"]


def _person(user: User) -> Person:
    return Person(user.id, user.email, user.full_name)


def _trio(session: Session, slug: str, apprentice: str, tutor: str, supervisor: str) -> Trio:
    # Semester 1 started six weeks ago: it is the current review (pending, not overdue) and
    # semester 2 is still upcoming, so the dashboard's "last review" column is semester 1.
    starts_on = date.today() - timedelta(days=42)
    users = [
        make_user(session, name=name, email=f"{slug}-{role}@browser.example")
        for role, name in (("apprentice", apprentice), ("tutor", tutor), ("supervisor", supervisor))
    ]
    appr = make_apprenticeship(
        session,
        apprentice=users[0],
        tutor=users[1],
        supervisor=users[2],
        cohort=make_cohort(session),
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=3 * 365),
    )
    return Trio(appr.id, *(_person(u) for u in users))


def _user(session: Session, person: Person) -> User:
    user = session.get(User, person.id)
    assert user is not None
    return user


def agree_levels(session: Session, trio: Trio, levels: dict[int, str]) -> None:
    """Set agreed levels through the service layer, as the tutor ("na": not observed)."""
    tutor = _user(session, trio.tutor)
    detail = review_service.load_detail(session, tutor, trio.apprenticeship_id, 1)
    review_service.save_agreed(
        session,
        tutor,
        trio.apprenticeship_id,
        1,
        version=detail.review.version,
        ratings=[
            RatingInput(cid, None if level == "na" else int(level), not_observed=level == "na")
            for cid, level in levels.items()
        ],
    )


def build_world(session: Session, settings: Settings) -> World:
    admin = make_user(session, name="Ada Admin", email="admin@browser.example", is_admin=True)
    world = World(
        admin=_person(admin),
        showcase=_trio(session, "show", "Alice Apprentie", "Thomas Tuteur", "Sophie Responsable"),
        locked=_trio(session, "locked", "Lina Apprentie", "Marc Tuteur", "Rose Responsable"),
        journey_fr=_trio(session, "fr", "Jeanne Apprentie", "Paul Tuteur", "Claire Responsable"),
        journey_en=_trio(session, "en", "Emma Apprentice", "Oscar Tutor", "Nora Supervisor"),
        conflict=_trio(session, "conflict", "Cora Apprentie", "Hugo Tuteur", "Lea Responsable"),
    )
    view = referential_for(session, certification(session))
    world.competency_ids.update({c.code: c.id for c in view.competencies})
    world.block_sizes.update({b.code: len(b.items) for b in view.blocks})
    # The showcase review has a few ratings, a comment and a divergence, so the accessibility
    # checks see level labels, tags and status badges, not only empty selects.
    show = world.showcase
    for party, levels in ((Party.APPRENTICE, (4, 3)), (Party.TUTOR, (2, 3))):
        review_service.save_assessment(
            session,
            _user(session, show.party(party.value)),
            show.apprenticeship_id,
            1,
            party,
            version=0,
            ratings=[
                RatingInput(world.cid("BC01-C01"), levels[0], comment="Conception du bâti"),
                RatingInput(world.cid("BC01-C02"), levels[1]),
                RatingInput(world.cid("BC01-C03"), not_observed=True),
            ],
            general_comment="Un semestre riche.",
        )
    locked = world.locked
    agree_levels(session, locked, {cid: "3" for cid in world.competency_ids.values()})
    for party in Party:
        review_service.sign(
            session,
            settings,
            _user(session, locked.party(party.value)),
            locked.apprenticeship_id,
            1,
            party,
            password=PASSWORD,
        )
    return world


# --- Live server ------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    world: World

    def session(self) -> Session:
        """A session on the server's database, for preparing data; the caller commits."""
        return self.session_factory()


def _free_socket() -> socket.socket:
    """A listening socket on a free port, handed to uvicorn: no race for the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{root / 'livret-browser.db'}"
    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")

    settings = Settings(
        environment="test",
        database_url=database_url,
        data_dir=root / "data",
        secret_key="browser-test-secret-key-not-for-production",
        log_level="WARNING",
    )
    engine = make_engine(database_url, pool_size=5)
    session_factory = make_session_factory(engine)
    with session_factory() as session:
        load_all_referentials(session)
        world = build_world(session, settings)
        session.commit()
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="livret-live-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not server.started:
        # Bounded wait for uvicorn's own "started" flag (lifespan done), not a fixed sleep.
        thread.join(timeout=0.05)
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live Livret server did not start")
    url = f"http://127.0.0.1:{port}"
    health = httpx.get(f"{url}/healthz", timeout=10)
    assert health.status_code == 200, health.text
    try:
        yield LiveServer(url, settings, engine, session_factory, world)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        engine.dispose()


@pytest.fixture(scope="package")
def world(live_server: LiveServer) -> World:
    return live_server.world


# --- Browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_session(browser: Browser, live_server: LiveServer) -> Iterator[BrowserSession]:
    """Opens contexts (one per person) and fails the test on a CSP violation or a JS error."""
    session = BrowserSession(browser, live_server.url)
    try:
        yield session
    finally:
        problems = session.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)
