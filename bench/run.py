"""First benchmark: a 3,000-apprentice school on SQLite, served in-process.

``make bench`` (or ``.venv/bin/python bench/run.py``):

1. builds the demo school once under ``var/bench/`` with the ``livret`` command line, in a
   subprocess so its memory does not count here; the database is reused while it is complete
   and was built by the same demo code, referentials and migrations (see the stamp file);
2. starts the app in this process (``create_app`` with its own ``Settings``) behind Starlette's
   ``TestClient``, signs people in with server-side sessions (``open_session``);
3. for each view below prints the median and p95 server time over ``RUNS`` runs after warm-up
   (timed by an ASGI wrapper around the app, from request to last body byte), the SQL
   statements per view (a ``before_cursor_execute`` listener on the app's engine) and the
   process's peak RSS, next to the targets.

It never exits non-zero because of speed: figures over target say "over", that is all.
To add a URL, add one ``View`` line to ``VIEWS``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import event, func, select
from starlette.testclient import TestClient

from app.cli import alembic_config
from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from app.models import Apprenticeship, SemesterReview, User
from app.services.people.auth import open_session
from app.web.csrf import SESSION_COOKIE

APPRENTICES = 3000
SEED = 2026
WARMUP = 5
RUNS = 60
RSS_TARGET_MB = 200
BENCH_DIR = PROJECT_ROOT / "var" / "bench"
DB_FILE = BENCH_DIR / f"livret-bench-{APPRENTICES}.db"
STAMP_FILE = DB_FILE.with_suffix(".stamp.json")
API = "/api/v1"


@dataclass(frozen=True)
class Subjects:
    """Who and what the views look at (chosen once the school exists)."""

    apprenticeship_id: int
    semester: int  # the apprentice's latest signed review
    supervised: tuple[int, ...]  # the supervisor's apprenticeships
    cohort_id: int  # the apprentice's cohort (about 200 apprentices)


@dataclass(frozen=True)
class View:
    name: str
    persona: str  # "apprentice", "supervisor" or "admin": whose session makes the requests
    urls: Callable[[Subjects], list[str]]  # requests making up one view, timed together
    target_p95_ms: float | None


VIEWS = (
    View(
        "apprentice home: / and its redirect",
        "apprentice",
        lambda s: ["/", f"/apprenticeships/{s.apprenticeship_id}"],
        30,
    ),
    View(
        "review page (HTML)",
        "apprentice",
        lambda s: [f"/apprenticeships/{s.apprenticeship_id}/reviews/{s.semester}"],
        40,
    ),
    View(
        "review (API)",
        "apprentice",
        lambda s: [f"{API}/apprenticeships/{s.apprenticeship_id}/reviews/{s.semester}"],
        40,
    ),
    View(
        "progress (API)",
        "apprentice",
        lambda s: [f"{API}/apprenticeships/{s.apprenticeship_id}/progress"],
        None,
    ),
    View(
        "journal (API, first page)",
        "apprentice",
        lambda s: [f"{API}/apprenticeships/{s.apprenticeship_id}/work-situations"],
        None,
    ),
    View(
        "journal page (HTML, first page)",
        "apprentice",
        lambda s: [f"/apprenticeships/{s.apprenticeship_id}/journal"],
        None,
    ),
    View("supervisor dashboard page (25)", "supervisor", lambda s: ["/dashboard"], 100),
    View(
        "cohort dashboard (200, admin)",
        "admin",
        lambda s: [f"/dashboard?cohort={s.cohort_id}"],
        100,
    ),
    View(
        "supervisor via API: list + progress of each",
        "supervisor",
        lambda s: [
            f"{API}/apprenticeships",
            *(f"{API}/apprenticeships/{i}/progress" for i in s.supervised),
        ],
        None,
    ),
)


# --- The school -------------------------------------------------------------------------------


def _stamp() -> dict[str, Any]:
    """What the cached database was built from; any change rebuilds it."""
    digest = hashlib.sha256()
    for path in [
        *sorted((PROJECT_ROOT / "app" / "demo").glob("*.py")),
        *sorted((PROJECT_ROOT / "seeds" / "referentials").glob("*.toml")),
    ]:
        digest.update(path.read_bytes())
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return {
        "apprentices": APPRENTICES,
        "seed": SEED,
        "alembic_head": head,
        "data": digest.hexdigest(),
    }


def _complete(stamp: dict[str, Any]) -> bool:
    if not DB_FILE.exists() or not STAMP_FILE.exists():
        return False
    try:
        if json.loads(STAMP_FILE.read_text()) != stamp:
            return False
        with sqlite3.connect(f"file:{DB_FILE}?mode=ro", uri=True) as conn:
            (count,) = conn.execute("SELECT count(*) FROM apprenticeships").fetchone()
        return bool(count == APPRENTICES)
    except (OSError, ValueError, sqlite3.Error):
        return False


def _livret(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"bench: `livret {' '.join(args)}` failed")
    return result.stdout


def ensure_school() -> str:
    """Build the bench database unless a complete one is there; say which happened."""
    stamp = _stamp()
    if _complete(stamp):
        return "reused"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    STAMP_FILE.unlink(missing_ok=True)
    env = {
        **os.environ,
        "LIVRET_DATABASE_URL": f"sqlite:///{DB_FILE}",
        "LIVRET_DATA_DIR": str(BENCH_DIR),
        "LIVRET_LOG_LEVEL": "WARNING",
    }
    print(f"Building a {APPRENTICES}-apprentice school in {DB_FILE} (once)…", flush=True)
    started = time.perf_counter()
    _livret("db", "upgrade", env=env)
    _livret("seed", "referentials", env=env)
    output = _livret(
        "seed", "demo", "--apprentices", str(APPRENTICES), "--seed", str(SEED), env=env
    )
    elapsed = time.perf_counter() - started
    for line in output.splitlines()[:2]:
        print(f"  {line.strip()}")
    STAMP_FILE.write_text(json.dumps(stamp, indent=2))
    return f"built in {elapsed:.0f} s"


# --- Measuring --------------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ServerTimer:
    """ASGI wrapper: time from the request reaching the app to its last body message."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Serve as uvicorn does: TestClient offers Starlette the "http.response.debug"
        # extension, through which every template and its context are handed back to the
        # client; that keeps each page's data alive until a slow garbage-collector pass,
        # which a real server never pays.
        extensions = dict(scope.get("extensions") or {})
        extensions.pop("http.response.debug", None)
        scope = {**scope, "extensions": extensions}
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - started) * 1000
            await send(message)

        await self.app(scope, receive, timed_send)


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            self.count += 1


@dataclass
class Result:
    view: View
    urls: list[str]
    times_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    per_url_ms: dict[str, list[float]] = field(default_factory=dict)
    per_url_queries: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]


def choose_subjects(app: Any) -> tuple[Subjects, dict[str, int]]:
    """An apprentice of the oldest intake (the fullest portfolio) and their supervisor."""
    with app.state.session_factory() as session:
        oldest = session.scalar(select(func.min(Apprenticeship.starts_on)))
        appr = session.scalars(
            select(Apprenticeship)
            .where(Apprenticeship.starts_on == oldest)
            .order_by(Apprenticeship.id)
            .limit(1)
        ).one()
        semester = session.scalar(
            select(func.max(SemesterReview.semester)).where(
                SemesterReview.apprenticeship_id == appr.id,
                SemesterReview.locked_at.is_not(None),
            )
        )
        supervised = session.scalars(
            select(Apprenticeship.id)
            .where(Apprenticeship.supervisor_id == appr.supervisor_id)
            .order_by(Apprenticeship.id)
        ).all()
        admin = session.scalar(select(User.id).where(User.is_admin).order_by(User.id).limit(1))
        return Subjects(appr.id, semester or 1, tuple(supervised), appr.cohort_id), {
            "apprentice": appr.apprentice_id,
            "supervisor": appr.supervisor_id,
            "admin": admin,
        }


def sign_in(app: Any, settings: Settings, people: dict[str, int]) -> dict[str, str]:
    tokens = {}
    with app.state.session_factory() as session:
        for persona, user_id in people.items():
            user = session.get(User, user_id)
            assert user is not None
            tokens[persona] = open_session(
                session, settings, user, ip="127.0.0.1", user_agent="livret-bench"
            )
        session.commit()
    return tokens


def measure(
    client: TestClient, timer: ServerTimer, counter: QueryCounter, view: View, urls: list[str]
) -> Result:
    result = Result(view, urls)
    for run in range(WARMUP + RUNS):
        total_ms, queries = 0.0, 0
        for url in urls:
            counter.count = 0
            response = client.get(url)
            if response.status_code >= 400:
                result.error = f"GET {url} answered {response.status_code}: {response.text[:200]}"
                return result
            total_ms += timer.last_ms
            queries += counter.count
            if run >= WARMUP:
                result.per_url_ms.setdefault(url, []).append(timer.last_ms)
                result.per_url_queries[url] = counter.count
        if run >= WARMUP:
            result.times_ms.append(total_ms)
            result.queries.append(queries)
    return result


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return "(no target yet)"
    return f"≤ {target:g} {'ok' if value <= target else 'OVER'}"


def main() -> None:
    how = ensure_school()
    load = os.getloadavg()[0]
    settings = Settings(
        environment="development",
        database_url=f"sqlite:///{DB_FILE}",
        data_dir=BENCH_DIR,
        secret_key="bench-only-secret-key",  # noqa: S106 - a throwaway local database
        log_level="WARNING",
    )
    app = create_app(settings)
    timer = ServerTimer(app)
    with TestClient(timer, follow_redirects=False) as client:
        counter = QueryCounter()
        event.listen(app.state.engine, "before_cursor_execute", counter)
        subjects, people = choose_subjects(app)
        tokens = sign_in(app, settings, people)
        results = []
        for view in VIEWS:
            client.cookies.set(SESSION_COOKIE, tokens[view.persona])
            results.append(measure(client, timer, counter, view, view.urls(subjects)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux

    size_mb = DB_FILE.stat().st_size / 1e6
    print(
        f"\nLivret benchmark: {APPRENTICES} apprentices on SQLite {sqlite3.sqlite_version} "
        f"({DB_FILE.relative_to(PROJECT_ROOT)}, {size_mb:.0f} MB, {how})"
    )
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPU; in-process TestClient; "
        f"{RUNS} runs per view after {WARMUP} warm-up runs; apprenticeship "
        f"{subjects.apprenticeship_id} (review S{subjects.semester}), its supervisor follows "
        f"{len(subjects.supervised)}. Load average at start: {load:.1f} (figures are noisy "
        "when other work shares the machine)."
    )
    header = f"{'view':<52} {'req':>4} {'median':>8} {'p95':>8} {'SQL':>5}  target p95 (ms)"
    print(f"\n{header}\n{'-' * len(header)}")
    for r in results:
        if r.error:
            print(f"{r.view.name:<52} ERROR {r.error}")
            continue
        low, high = min(r.queries), max(r.queries)
        sql = str(low) if low == high else f"{low}-{high}"
        print(
            f"{r.view.name:<52} {len(r.urls):>4} {r.median:>6.1f}ms {r.p95:>6.1f}ms {sql:>5}  "
            f"{verdict(r.p95, r.view.target_p95_ms)}"
        )
        if 1 < len(r.urls) <= 3:  # which request of the view costs what
            for url in r.urls:
                times = r.per_url_ms[url]
                print(
                    f"  GET {url:<47} {'':>4} {statistics.median(times):>6.1f}ms "
                    f"{'':>8} {r.per_url_queries[url]:>5}"
                )
    print(f"\npeak RSS of this process: {rss_mb:.0f} MB  (target {verdict(rss_mb, RSS_TARGET_MB)})")
    print("Times are server-side, per view (a view may be several requests); SQL = statements.")


if __name__ == "__main__":
    main()
