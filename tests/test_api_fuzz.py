"""Property-based fuzzing of every operation of the OpenAPI document, with schemathesis: signed
in as an admin, then as an apprentice, no request may make the server answer 5xx.

Each operation gets ``LIVRET_TEST_FUZZ_EXAMPLES`` cases (valid and invalid ones, as the schema
describes them), sent in-process to the ASGI app, on the test database. Path parameters, body
fields and query values are drawn half the time from real records (apprenticeship A's id,
semesters 1..6, a situation, an attachment, an English result, competencies...) so that cases
get past the 404s, and half the time from what schemathesis generates (out-of-range ids,
garbage strings); half of them also get one text or integer value swapped for one that broke
input handling before (a NUL byte, "²", 2**31...). The JSON API is called with a bearer token,
the pages with the browser's session cookie and CSRF token: the persona is signed in either way.

Determinism: Hypothesis is derandomized (its seed comes from this module's code), it keeps no
example database, has no deadline and does not shrink, and every case runs in a savepoint
rolled back afterwards, so each one sees the same records and a run counts the same cases
every time. A failing case is recorded, not raised, so one run lists every distinct server
error with a curl command that reproduces it, and the test then fails on them.

Knobs (``make fuzz`` sets them for a broader, random campaign outside CI):
``LIVRET_TEST_FUZZ_EXAMPLES`` (cases per operation), ``LIVRET_TEST_FUZZ_SEED`` (an integer, or
``random``: random generation, the seed printed so a run can be replayed),
``LIVRET_TEST_FUZZ_CONFORMANCE=1`` (also check documented status codes, content types and
response schemas; off while the responses are being documented), ``LIVRET_TEST_FUZZ_VERBOSE=1``
(a status-code histogram per operation).
"""

from __future__ import annotations

import io
import os
import secrets
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from starlette.types import Message, Receive, Scope, Send

from app.config import Settings
from app.models import Competency, CompetencyBlock, Party, User
from app.services.degree_conditions import evidence as degree_service
from app.services.documents import attachments as attachment_service
from app.services.journal import situations as journal_service
from app.services.progress import loader as progress_loader
from app.services.reviews import workflow as review_service
from app.web.csrf import CSRF_HEADER, SESSION_COOKIE
from tests.factories import make_mobility_period
from tests.helpers import FUZZ_SUMMARY, Personas, bearer, csrf_for, login_as, pdf_bytes, png_bytes


def _env(name: str, default: str) -> str:
    return os.environ.get(f"LIVRET_TEST_FUZZ_{name}", "") or default


EXAMPLES = int(_env("EXAMPLES", "10"))
SEED_SETTING = _env("SEED", "")
CONFORMANCE = _env("CONFORMANCE", "") == "1"
VERBOSE = _env("VERBOSE", "") == "1"

CASE_SAVEPOINT = "livret_fuzz_case"

# Operations with nothing to fuzz, and why.
NOT_FUZZED = {
    # No input at all, and it pings the database on a connection of its own, outside the test
    # transaction (on SQLite it would wait on the test's write lock); tests/test_health.py.
    "GET /healthz",
}


def _seed() -> int | None:
    if not SEED_SETTING:
        return None
    return secrets.randbelow(2**32) if SEED_SETTING == "random" else int(SEED_SETTING)


SEED = _seed()


def _checks() -> list[Callable[..., Any]]:
    checks: list[Callable[..., Any]] = [not_a_server_error]
    if CONFORMANCE:
        from schemathesis import checks as all_checks

        checks += [
            all_checks.status_code_conformance,
            all_checks.content_type_conformance,
            all_checks.response_schema_conformance,
        ]
    return checks


# --- Real records for the generated requests --------------------------------------------------


@dataclass
class Records:
    """Real values, by parameter or field name, that the fuzzing may use instead of its own."""

    path: dict[str, list[Any]]
    body: dict[str, list[Any]]
    query: dict[str, list[Any]]
    files: dict[Path, bytes]  # the fixtures' attachment files, put back after each case


def _realistic(value: Any, real: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    """``value`` with its fields, at any depth, sometimes swapped for real values."""
    if isinstance(value, dict):
        return st.fixed_dictionaries({key: _field(key, item, real) for key, item in value.items()})
    if isinstance(value, list):
        return st.tuples(*(_realistic(item, real) for item in value)).map(list)
    return st.just(value)


def _field(key: Any, value: Any, real: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    """Either the generated value (made realistic inside) or one of the real ones."""
    generated = _realistic(value, real)
    choices = real.get(key) if isinstance(key, str) else None
    return st.one_of(generated, st.sampled_from(choices)) if choices else generated


# Values that broke input handling before: text PostgreSQL refuses (NUL), a character that
# str.isdigit() accepts and int() does not, integers past PostgreSQL's and SQLite's ranges.
ODD_TEXT = ("\x00", "x\x00y", "²")
ODD_INTEGERS = (2**31, -(2**31) - 1, 2**63)
Location = tuple[Any, ...]


def _leaves(value: Any, location: Location = ()) -> Iterator[tuple[Location, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*location, index))
    elif isinstance(value, str | int) and not isinstance(value, bool):
        yield location, value


def _replaced(value: Any, location: Location, new: Any) -> Any:
    if not location:
        return new
    head, *rest = location
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replaced(value[head], tuple(rest), new)
    return copy


def _one_odd_value(value: Any) -> st.SearchStrategy[Any]:
    """``value`` as it is, or with one of its text or integer leaves swapped for an odd value,
    so that each known kind of bad input reaches every field even with few examples."""
    swaps = [
        (location, odd)
        for location, leaf in _leaves(value)
        for odd in (ODD_TEXT if isinstance(leaf, str) else ODD_INTEGERS)
    ]
    if not swaps:
        return st.just(value)
    return st.one_of(st.just(value), st.sampled_from(swaps).map(lambda s: _replaced(value, *s)))


def _steered(value: Any, real: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    return _realistic(value, real).flatmap(_one_odd_value)


@pytest.fixture
def records(db: Session, personas: Personas, settings: Settings) -> Records:
    appr_a, appr_b = personas.apprenticeship_a, personas.apprenticeship_b
    certification_id = appr_a.cohort.certification_id
    competencies = db.scalars(
        select(Competency)
        .where(Competency.certification_id == certification_id, Competency.block_id.is_not(None))
        .order_by(Competency.id)
        .limit(3)
    ).all()
    blocks = db.scalars(select(CompetencyBlock).order_by(CompetencyBlock.id)).all()
    codes = [c.code for c in competencies]

    def situation(apprentice: User, appr_id: int, title: str) -> int:
        return journal_service.create_situation(
            db,
            apprentice,
            appr_id,
            journal_service.SituationInput(
                title, date(2025, 10, 1), date(2025, 10, 3), codes[:2], context="Atelier"
            ),
        ).id

    draft_a = situation(personas.apprentice_a, appr_a.id, "Mise en service du banc")
    submitted_a = situation(personas.apprentice_a, appr_a.id, "Analyse vibratoire")
    journal_service.submit(db, personas.apprentice_a, submitted_a)
    draft_b = situation(personas.apprentice_b, appr_b.id, "Plan de maintenance")
    evidence = attachment_service.add_to_situation(
        db,
        personas.apprentice_a,
        settings.attachments_dir,
        draft_a,
        io.BytesIO(png_bytes()),
        "banc.png",
    )
    english = degree_service.create_english_result(
        db,
        personas.apprentice_a,
        appr_a.id,
        degree_service.EnglishResultInput("TOEIC", "890", "B2", date(2025, 5, 1)),
    )
    certificate = attachment_service.add_to_english_result(
        db,
        personas.apprentice_a,
        settings.attachments_dir,
        english.id,
        io.BytesIO(pdf_bytes()),
        "toeic.pdf",
    )
    make_mobility_period(db, appr_a.id)
    review_service.save_assessment(
        db,
        personas.apprentice_a,
        appr_a.id,
        1,
        Party.APPRENTICE,
        version=0,
        ratings=[review_service.RatingInput(c.id, 3) for c in competencies],
        general_comment="Premier semestre",
    )
    db.flush()
    files = {
        settings.attachments_dir / a.stored_name: (
            settings.attachments_dir / a.stored_name
        ).read_bytes()
        for a in (evidence, certificate)
    }
    people = [personas.apprentice_a, personas.tutor_a, personas.supervisor_a, personas.tutor_b]
    emails = [p.email for p in people]
    return Records(
        path={
            "apprenticeship_id": [appr_a.id, appr_b.id],
            "semester": [1, 2, 3, 4, 5, 6],
            "situation_id": [draft_a, submitted_a, draft_b],
            "attachment_id": [evidence.id, certificate.id],
            "result_id": [english.id],
            "competency_id": [c.id for c in competencies],
            "user_id": [p.id for p in people],
            "rncp_code": ["RNCP39303", "RNCP39668"],
            "block_code": [b.code for b in blocks[:2]] + [blocks[-1].code],
        },
        body={
            "apprentice_id": [personas.apprentice_a.id, personas.outsider.id],
            "tutor_id": [personas.tutor_a.id],
            "supervisor_id": [personas.supervisor_a.id],
            "company_id": [appr_a.company_id],
            "cohort_id": [appr_a.cohort_id],
            "school_id": [appr_a.cohort.school_id],
            "certification_id": [certification_id],
            "competency_id": [c.id for c in competencies],
            "competency_codes": [codes[:1], codes],
            "version": [0, 1, 2],
            "email": emails,
            "apprentice_email": emails[:1],
            "tutor_email": emails[1:2],
            "supervisor_email": emails[2:3],
        },
        query={
            "cohort": [appr_a.cohort_id],
            "competency": codes,
            "block": [b.code for b in blocks[:2]],
        },
        files=files,
    )


# --- Sending cases and trapping server errors -------------------------------------------------


class ServerErrorTrap:
    """ASGI wrapper around the app that keeps the exception behind each 500.

    Starlette answers 500 and then re-raises the exception (for servers to log it); in process
    it would escape into the test instead of being a response. The trap keeps it and, should
    the app have failed before answering, answers 500 itself."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.errors: list[BaseException] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            self.errors.append(exc)
            if not started:
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b""})


def _app_frame(exc: BaseException) -> str:
    """Where in app/ the exception came from: the innermost frame of the project's code."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if f"{os.sep}app{os.sep}" in f.filename
    ]
    if not frames:
        return "outside app/"
    frame = frames[-1]
    path = frame.filename[frame.filename.rindex(f"{os.sep}app{os.sep}") + 1 :]
    return f"{path}:{frame.lineno} in {frame.name}"


@dataclass
class Finding:
    operation: str
    persona: str
    status: int
    server_error: bool  # or a conformance failure (LIVRET_TEST_FUZZ_CONFORMANCE)
    error: str  # the exception's type and message, or what the check said
    where: str  # the innermost app/ frame of the exception
    curl: str  # the smallest request seen for this error
    seen: int = 1

    @property
    def cause(self) -> tuple[str, str]:
        return self.error.split(":")[0], self.where


def report(findings: list[Finding]) -> str:
    """The findings grouped by cause (exception type and app/ frame), each operation with the
    smallest request that showed it."""
    causes: dict[tuple[str, str], list[Finding]] = {}
    for finding in sorted(findings, key=lambda f: (f.cause, f.operation)):
        causes.setdefault(finding.cause, []).append(finding)
    blocks = []
    for (_kind, where), group in causes.items():
        lines = [group[0].error + (f"\n  at {where}" if where != "-" else "")]
        for f in group:
            lines.append(f"  {f.operation} -> {f.status} ({f.seen} case(s))\n      {f.curl}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


@dataclass
class Campaign:
    persona: str
    database: str
    cases: int = 0
    operations: int = 0
    # by operation and cause
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)

    def record(self, finding: Finding) -> None:
        key = (finding.operation, *finding.cause)
        known = self.findings.get(key)
        if known is None:
            self.findings[key] = finding
            return
        known.seen += 1
        if len(finding.curl) < len(known.curl):
            known.curl, known.error, known.status = finding.curl, finding.error, finding.status

    def server_errors(self) -> list[Finding]:
        return [f for f in self.findings.values() if f.server_error]

    def summary(self, seconds: float) -> str:
        mode = f"seed {SEED}" if SEED is not None else "derandomized"
        others = len(self.findings) - len(self.server_errors())
        conformance = f", {others} conformance failures" if CONFORMANCE else ""
        return (
            f"fuzz: {self.persona} {self.cases} cases over {self.operations} operations, "
            f"{len(self.server_errors())} server errors{conformance} "
            f"({self.database}, {mode}, up to {EXAMPLES} examples per operation, {seconds:.0f} s)"
        )


def _hypothesis_settings() -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=SEED is None,
        database=None,
        deadline=None,
        # Fixtures are set up once per persona, on purpose; and timing must never fail a run.
        suppress_health_check=list(HealthCheck),
        # No shrinking: failing cases are recorded, not raised, and the count stays the same.
        phases=(Phase.explicit, Phase.generate),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


@dataclass
class Persona:
    """How the persona signs in: a bearer token for the API, the browser session for pages."""

    name: str
    token_header: dict[str, str]
    session_cookie: str
    csrf_token: str

    def credentials(self, path: str) -> dict[str, Any]:
        if path.startswith("/api/"):
            return {"headers": self.token_header}
        return {
            "headers": {CSRF_HEADER: self.csrf_token},
            "cookies": {SESSION_COOKIE: self.session_cookie},
        }


class Fuzzer:
    def __init__(
        self,
        app: FastAPI,
        connection: Connection,
        records: Records,
        attachments_dir: Path,
        campaign: Campaign,
    ) -> None:
        self.trap = ServerErrorTrap(app)
        self.connection = connection
        self.records = records
        self.attachments_dir = attachments_dir
        self.campaign = campaign
        self.checks = _checks()
        self.files_before = set(os.listdir(attachments_dir))

    def schema(self, document: dict[str, Any]) -> Any:
        # An explicit config: no schemathesis.toml is looked up, whatever the working directory.
        schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
        records = self.records

        @schema.hook("flatmap_path_parameters")
        def real_path_parameters(_ctx: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
            return _steered(path_parameters, records.path)

        @schema.hook("flatmap_body")
        def real_body_fields(_ctx: Any, body: Any) -> st.SearchStrategy[Any]:
            return _steered(body, records.body)

        @schema.hook("flatmap_query")
        def real_query_values(_ctx: Any, query: Any) -> st.SearchStrategy[Any]:
            return _steered(query, records.query)

        return schema

    def fuzz(self, operation: Any, persona: Persona) -> None:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        credentials = persona.credentials(operation.path)
        statuses = self.campaign.statuses.setdefault(operation.label, Counter())

        @_hypothesis_settings()
        @given(case=strategy)
        def run(case: Any) -> None:
            self.campaign.cases += 1
            status = self.send(case, persona.name, credentials)
            statuses[status] += 1

        if SEED is not None:
            run = hypothesis.seed(SEED)(run)
        run()
        self.campaign.operations += 1

    def send(self, case: Any, persona: str, credentials: dict[str, Any]) -> int:
        # A savepoint of our own, released after the rollback: ROLLBACK TO keeps a savepoint
        # open, and thousands of them nested would exhaust PostgreSQL's lock table.
        self.connection.exec_driver_sql(f"SAVEPOINT {CASE_SAVEPOINT}")
        self.trap.errors.clear()
        try:
            # No request deadline (schemathesis has one of 10 s): a slow machine must never fail
            # the run; pytest-timeout still stops a hang. A redirect is the answer under test.
            response = case.call(
                session=ASGIClient(self.trap),
                app=self.trap,
                allow_redirects=False,
                timeout=None,
                **credentials,
            )
            failures: list[Any] = []
            try:
                case.validate_response(response, checks=self.checks)
            except schemathesis.errors.FailureGroup as group:
                failures = list(group.exceptions)
            status = int(response.status_code)
            if self.trap.errors or failures:
                self.record(case, persona, status, failures)
            return status
        finally:
            self.connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {CASE_SAVEPOINT}")
            self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {CASE_SAVEPOINT}")
            # Ids come back after a rollback: the progress cache must not remember them.
            progress_loader.clear_cache()
            self.restore_files()

    def record(self, case: Any, persona: str, status: int, failures: list[Any]) -> None:
        def finding(server_error: bool, error: str, where: str) -> Finding:
            curl = case.as_curl_command()
            return Finding(case.operation.label, persona, status, server_error, error, where, curl)

        # An exception is a server error even when the response had started (a cut download).
        for exc in self.trap.errors:
            error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            self.campaign.record(finding(True, error, _app_frame(exc)))
        if not self.trap.errors:
            for failure in failures:
                where = "no exception" if status >= 500 else "-"
                self.campaign.record(finding(status >= 500, failure.title, where))

    def restore_files(self) -> None:
        """The rollback undoes rows, not files: remove the files the case wrote, put back the
        fixtures' files it deleted."""
        for name in set(os.listdir(self.attachments_dir)) - self.files_before:
            (self.attachments_dir / name).unlink(missing_ok=True)
        for path, content in self.records.files.items():
            if not path.exists():
                path.write_bytes(content)


@pytest.mark.parametrize("who", ["admin", "apprentice_a"])
def test_no_input_makes_the_server_fail(
    who: str,
    request: pytest.FixtureRequest,
    app: FastAPI,
    client: TestClient,
    connection: Connection,
    db: Session,
    personas: Personas,
    records: Records,
    settings: Settings,
) -> None:
    lines = request.config.stash.setdefault(FUZZ_SUMMARY, [])
    if SEED is not None and not lines:
        lines.append(f"fuzz: seed {SEED} (replay with: make fuzz seed={SEED} examples={EXAMPLES})")
    user = getattr(personas, who)
    token_header = bearer(db, user)
    login_as(client, db, settings, user)
    persona = Persona(who, token_header, client.cookies[SESSION_COOKIE], csrf_for(client, settings))
    document = client.get("/openapi.json").json()
    campaign = Campaign(who, connection.engine.dialect.name)
    fuzzer = Fuzzer(app, connection, records, settings.attachments_dir, campaign)
    schema = fuzzer.schema(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert NOT_FUZZED.issubset(op.label for op in operations), "stale NOT_FUZZED"
    started = time.perf_counter()
    for operation in operations:
        if operation.label not in NOT_FUZZED:
            fuzzer.fuzz(operation, persona)

    summary = campaign.summary(time.perf_counter() - started)
    lines.append(summary)
    if VERBOSE:
        for label, statuses in campaign.statuses.items():
            lines.append(f"  {label}: {dict(sorted(statuses.items()))}")
    assert campaign.operations == len(operations) - len(NOT_FUZZED)
    if campaign.findings:
        pytest.fail(f"{summary}\n\n{report(list(campaign.findings.values()))}", pytrace=False)
