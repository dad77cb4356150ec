"""Pages run a fixed number of SQL queries whatever the data volume."""

from __future__ import annotations

from datetime import date

from app.models import EnglishResult, MobilityPeriod, SituationStatus
from app.services.journal import situations as journal_service
from tests.factories import make_apprenticeship
from tests.helpers import login_as
from tests.querycount import count_queries


def _grow(db, p, n: int) -> None:
    """More situations, evidence, English results, mobility periods and apprentices."""
    for i in range(n):
        s = journal_service.create_situation(
            db,
            p.apprentice_a,
            p.apprenticeship_a.id,
            journal_service.SituationInput(
                f"S{i}",
                date(2025, 10, 1),
                date(2025, 10, 2),
                ["RNCP39303BC01-C01", "RNCP39303BC02-C02"],
            ),
        )
        if i % 2:
            s.status = SituationStatus.SUBMITTED
    db.add_all(
        [
            EnglishResult(
                apprenticeship_id=p.apprenticeship_a.id,
                test_name="TOEIC",
                score=str(i),
                cefr_level="B1",
                taken_on=date(2026, 1, 1),
            )
            for i in range(n)
        ]
    )
    db.add_all(
        [
            MobilityPeriod(
                apprenticeship_id=p.apprenticeship_a.id,
                country="DE",
                host="H",
                starts_on=date(2026, 3, 2),
                ends_on=date(2026, 3, 15),
            )
            for _ in range(n)
        ]
    )
    for _ in range(n):
        make_apprenticeship(
            db, tutor=p.tutor_a, supervisor=p.supervisor_a, cohort=p.apprenticeship_a.cohort
        )
    db.flush()


def test_pages_keep_a_fixed_query_count(client, db, connection, settings, personas) -> None:
    p = personas
    a = p.apprenticeship_a.id
    pages = [
        (p.apprentice_a, f"/apprenticeships/{a}"),
        (p.apprentice_a, f"/apprenticeships/{a}/journal"),
        (p.apprentice_a, f"/apprenticeships/{a}/reviews/1"),
        (p.apprentice_a, f"/apprenticeships/{a}/english"),
        (p.apprentice_a, f"/apprenticeships/{a}/mobility"),
        (p.tutor_a, "/"),
        (p.supervisor_a, f"/dashboard?cohort={p.apprenticeship_a.cohort_id}"),
    ]

    def measure() -> list[int]:
        counts = []
        for user, url in pages:
            client.cookies.clear()
            login_as(client, db, settings, user)
            client.get(url)  # warm caches (referential views)
            with count_queries(connection) as counter:
                assert client.get(url).status_code == 200, url
            counts.append(counter.count)
        return counts

    _grow(db, p, 2)
    small = measure()
    _grow(db, p, 40)
    large = measure()
    report = {url: (s, g) for (_u, url), s, g in zip(pages, small, large, strict=True)}
    print("queries per page (small, large):", report)
    assert small == large, report
