"""A believable demo school, for trying Livret and for benchmarks.

``seed_demo(session, apprentices=N)`` builds the school once: cohorts of about 200 apprentices
per certification and intake year (the three latest intakes, so cohorts sit at different
semesters), companies with tutors (one to three apprentices each), academic supervisors (about
25 apprentices of one cohort each) and one admin. Every apprentice gets a journal (about eight
work situations per semester started), semester reviews (assessed by the three parties, agreed,
co-signed and locked for past semesters, a few left pending so they show as overdue), English
results and mobility periods.

Everything derives from one ``random.Random(seed)`` and the ``today`` given, so the same
arguments build the same school. Rows go in with Core bulk inserts, one batch of apprenticeships
at a time, without per-row flushes; argon2 runs once; the audit log gets one event for the whole
seeding. Signatures hash the agreed content exactly as :mod:`app.services.reviews.workflow` does, so
verification reports them intact.

The French texts below are demo data, not interface messages.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from app.demo.sample_text import (
    ACTIVITIES,
    COMPANIES,
    COMPANY_PLACES,
    COMPANY_TRADES,
    FIRST_NAMES,
    GENERAL_COMMENTS,
    IMPROVEMENTS,
    INDICATORS,
    LAST_NAMES,
    METHODS,
    MOBILITY_HOSTS,
    PIECES,
    RATING_COMMENTS,
    SOFTWARE,
    STRENGTHS,
    TEAMS,
    TUTOR_COMMENTS,
    USER_AGENTS,
    WORKSHOPS,
)
from app.models import (
    Apprenticeship,
    Certification,
    Cohort,
    CompetencyRating,
    EnglishResult,
    MobilityPeriod,
    Organisation,
    OrganisationKind,
    PartyAssessment,
    RatingSource,
    SemesterReview,
    Signature,
    SituationStatus,
    User,
    WorkSituation,
    situation_competencies,
)
from app.models.base import utcnow
from app.services import audit
from app.services.canonical import sha256_hex
from app.services.people.passwords import hash_password
from app.services.referentials.views import ReferentialView, referential_for
from app.services.reviews.signed_content import agreed_content
from app.services.school.calendar import semester_dates

DEMO_PASSWORD = "livret-demo-2026"  # noqa: S105 - printed on purpose: demo accounts only
ADMIN_EMAIL = "admin@ecole-demo.example"
SCHOOL_NAME = "École d'ingénieurs Livret (démo)"
SCHOOL_DOMAIN = "ecole-demo.example"
STUDENT_DOMAIN = "etu.ecole-demo.example"

COHORT_SIZE = 200
APPRENTICES_PER_SUPERVISOR = 25
APPRENTICES_PER_COMPANY = 8
SITUATIONS_PER_SEMESTER = 8
SEMESTER_COUNT = 6
BATCH_APPRENTICESHIPS = 200  # apprenticeships whose journals and reviews are built per batch
LEVEL_MIN, LEVEL_MAX = 1, 4  # the default scale of both shipped referentials

PARTY_SOURCES = (RatingSource.APPRENTICE, RatingSource.TUTOR, RatingSource.SUPERVISOR)


ENGLISH_LEVELS = ("B1", "B2", "C1", "C2")
ENGLISH_WEIGHTS = (15, 52, 30, 3)
COUNTED = (
    "apprentices",
    "cohorts",
    "companies",
    "tutors",
    "supervisors",
    "work situations",
    "signed reviews",
    "past reviews unsigned",
    "English results",
    "mobility periods",
)
STATUSES = (SituationStatus.DRAFT, SituationStatus.SUBMITTED, SituationStatus.ACKNOWLEDGED)


@dataclass
class DemoReport:
    created: bool
    logins: list[tuple[str, str]] = field(default_factory=list)  # (role, email)
    counts: dict[str, int] = field(default_factory=dict)


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in plain.lower()).split())


def _luhn_complete(digits: str) -> str:
    """Append the Luhn check digit (SIREN and SIRET numbers use it)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return digits + str((10 - total % 10) % 10)


def intake_years(today: date) -> tuple[int, int, int]:
    """The three latest September intakes whose first semester is over, newest first."""
    latest = today.year - 1 if today >= date(today.year, 3, 1) else today.year - 2
    return latest, latest - 1, latest - 2


def _at(day: date, rng: random.Random) -> datetime:
    """A plausible working-hours moment on ``day``, in UTC."""
    return datetime.combine(day, time(rng.randint(7, 17), rng.randint(0, 59)), tzinfo=UTC)


def _table(model: Any) -> Table:
    return model if isinstance(model, Table) else cast(Table, model.__table__)


@dataclass(frozen=True)
class _Appr:
    id: int
    apprentice_id: int
    tutor_id: int
    supervisor_id: int
    certification_id: int
    starts_on: date


@dataclass(frozen=True)
class _Rating:
    """Duck-types the attributes of ``CompetencyRating`` that ``agreed_content`` reads."""

    competency_id: int
    level: int | None
    not_observed: bool
    comment: str


@dataclass(frozen=True)
class _ApprRef:
    id: int


@dataclass(frozen=True)
class _ReviewRef:
    semester: int
    agreed_summary: str


@dataclass
class _ReviewPlan:
    appr: _Appr
    semester: int
    starts_on: date
    ends_on: date
    parties: tuple[RatingSource, ...] = ()  # parties whose assessment exists
    ratings: dict[RatingSource, list[_Rating]] = field(default_factory=dict)
    summary: str = ""
    signers: tuple[RatingSource, ...] = ()
    assessed_at: datetime | None = None
    signed_at: list[datetime] = field(default_factory=list)
    content_hash: str = ""
    id: int = 0

    @property
    def locked(self) -> bool:
        return len(self.signers) == len(PARTY_SOURCES)


class _EmailBook:
    def __init__(self, taken: set[str]) -> None:
        self.taken = taken

    def make(self, first: str, last: str, domain: str) -> str:
        base = f"{_slug(first)}.{_slug(last)}".replace("-", "")
        email, n = f"{base}@{domain}", 1
        while email in self.taken:
            n += 1
            email = f"{base}{n}@{domain}"
        self.taken.add(email)
        return email


class _SchoolBuilder:
    def __init__(
        self,
        session: Session,
        rng: random.Random,
        today: date,
        certifications: Sequence[Certification],
    ) -> None:
        self.session = session
        self.rng = rng
        self.today = today
        self.now = min(utcnow(), datetime.combine(today, time(23, 59), tzinfo=UTC))
        self.certifications = certifications
        self.referentials: dict[int, ReferentialView] = {
            c.id: referential_for(session, c) for c in certifications
        }
        # Per certification: how hard each competency is, and the competency pools a work
        # situation draws from (one block's own and linked transversal competencies).
        self.difficulty: dict[int, float] = {}
        self.pools: dict[int, list[list[int]]] = {}
        for cert_id, ref in self.referentials.items():
            for competency in ref.competencies:
                self.difficulty[competency.id] = rng.gauss(0, 0.35)
            self.pools[cert_id] = [list(b.competency_ids) for b in ref.blocks if b.items]
        self.emails = _EmailBook({ADMIN_EMAIL, *session.scalars(select(User.email))})
        self.counts: Counter[str] = Counter()

    # --- Bulk writes ----------------------------------------------------------------------

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(_table(model)), rows)

    def _insert_ids(self, model: Any, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        table = _table(model)
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(self.session.execute(stmt, rows).scalars())

    def _stamp(self) -> dict[str, Any]:
        return {"created_at": self.now, "updated_at": self.now}

    # --- The school -----------------------------------------------------------------------

    def build(self, apprentices: int, cohort_size: int) -> dict[str, int]:
        rng = self.rng
        password_hash = hash_password(DEMO_PASSWORD)
        company_count = max(len(COMPANIES), -(-apprentices // APPRENTICES_PER_COMPANY))
        companies = self._company_names(company_count)
        org_ids = self._insert_ids(
            Organisation,
            [
                {
                    "name": SCHOOL_NAME,
                    "kind": OrganisationKind.SCHOOL,
                    "siret": "19860000000015",
                    **self._stamp(),
                }
            ]
            + [
                {"name": name, "kind": OrganisationKind.COMPANY, "siret": siret, **self._stamp()}
                for name, siret, _domain in companies
            ],
        )
        school_id, company_ids = org_ids[0], org_ids[1:]

        # Cohorts: one per certification at least, about ``cohort_size`` apprentices each,
        # spread over the intake years (newest first, so a small school is all one intake).
        certs = list(self.certifications)
        years = intake_years(self.today)
        cohort_count = max(len(certs), round(apprentices / cohort_size))
        specs = [
            (certs[i % len(certs)], years[(i // len(certs)) % len(years)])
            for i in range(cohort_count)
        ]
        groups = Counter((cert.id, year) for cert, year in specs)
        seen: Counter[tuple[int, int]] = Counter()
        cohort_rows = []
        for cert, year in specs:
            seen[cert.id, year] += 1
            name = f"{cert.rncp_code} — promotion {year}-{year + 3}"
            if groups[cert.id, year] > 1:
                name += f" (groupe {seen[cert.id, year]})"
            cohort_rows.append(
                {
                    "certification_id": cert.id,
                    "school_id": school_id,
                    "intake_year": year,
                    "name": name,
                    **self._stamp(),
                }
            )
        cohort_ids = self._insert_ids(Cohort, cohort_rows)

        # People. Users are listed first and inserted in one go; plans refer to list indexes.
        users: list[dict[str, Any]] = []

        def account(email: str, full_name: str, *, is_admin: bool = False) -> int:
            users.append(
                {
                    "email": email,
                    "full_name": full_name,
                    "locale": "fr",
                    "is_admin": is_admin,
                    "is_active": True,
                    "password_hash": password_hash,
                    **self._stamp(),
                }
            )
            return len(users) - 1

        def person(domain: str) -> int:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            return account(self.emails.make(first, last, domain), f"{first} {last}")

        account(ADMIN_EMAIL, "Administratrice Démo", is_admin=True)
        cohort_members = [len(range(c, apprentices, cohort_count)) for c in range(cohort_count)]
        supervisors = [
            [
                person(SCHOOL_DOMAIN)
                for _ in range(max(1, round(members / APPRENTICES_PER_SUPERVISOR)))
            ]
            for members in cohort_members
        ]
        # Companies: each takes at least one apprentice, then bigger ones (listed first) more.
        weights = [1 / (1 + k / 12) for k in range(company_count)]
        company_of = [
            i if i < company_count else rng.choices(range(company_count), weights)[0]
            for i in range(apprentices)
        ]
        current_tutor: dict[int, tuple[int, int]] = {}  # company -> (tutor index, slots left)
        plans: list[tuple[int, int, int, int, int]] = []
        for i in range(apprentices):
            company = company_of[i]
            tutor, left = current_tutor.get(company, (-1, 0))
            if left == 0:
                tutor, left = person(companies[company][2]), rng.choice((1, 2, 2, 3, 3))
            current_tutor[company] = (tutor, left - 1)
            cohort = i % cohort_count
            group = supervisors[cohort]
            supervisor = group[(i // cohort_count) % len(group)]
            plans.append((person(STUDENT_DOMAIN), tutor, supervisor, company, cohort))
        user_ids = self._insert_ids(User, users)
        self.counts.update(
            apprentices=apprentices,
            cohorts=cohort_count,
            companies=company_count,
            supervisors=sum(len(g) for g in supervisors),
            tutors=len(users) - 1 - apprentices - sum(len(g) for g in supervisors),
        )

        appr_rows = []
        for apprentice, tutor, supervisor, company, cohort in plans:
            year = specs[cohort][1]
            appr_rows.append(
                {
                    "apprentice_id": user_ids[apprentice],
                    "company_id": company_ids[company],
                    "tutor_id": user_ids[tutor],
                    "supervisor_id": user_ids[supervisor],
                    "cohort_id": cohort_ids[cohort],
                    "starts_on": date(year, 9, 1),
                    "ends_on": date(year + 3, 8, 31),
                    "semester_count": SEMESTER_COUNT,
                    **self._stamp(),
                }
            )
        appr_ids = self._insert_ids(Apprenticeship, appr_rows)
        apprenticeships = [
            _Appr(
                id=appr_id,
                apprentice_id=row["apprentice_id"],
                tutor_id=row["tutor_id"],
                supervisor_id=row["supervisor_id"],
                certification_id=specs[plan[4]][0].id,
                starts_on=row["starts_on"],
            )
            for appr_id, row, plan in zip(appr_ids, appr_rows, plans, strict=True)
        ]
        for start in range(0, len(apprenticeships), BATCH_APPRENTICESHIPS):
            self._portfolios(apprenticeships[start : start + BATCH_APPRENTICESHIPS])
        return {key: self.counts[key] for key in COUNTED}

    def _company_names(self, count: int) -> list[tuple[str, str, str]]:
        classic = {name for name, _siret, _domain in COMPANIES}
        combos = [
            f"{trade} {place}"
            for trade in COMPANY_TRADES
            for place in COMPANY_PLACES
            if f"{trade} {place}" not in classic
        ]
        self.rng.shuffle(combos)
        result = list(COMPANIES[:count])
        sirets = {siret for _name, siret, _domain in COMPANIES}
        for k in range(count - len(result)):
            name = combos[k % len(combos)]
            if k >= len(combos):
                name += f" — site {k // len(combos) + 1}"
            siret = ""
            while not siret or siret in sirets:
                siren = _luhn_complete(f"{self.rng.randrange(10**7, 10**8)}")
                siret = _luhn_complete(f"{siren}{self.rng.randrange(10**3, 10**4):04d}")
            sirets.add(siret)
            result.append((name, siret, f"{_slug(name)}.example"))
        return result

    # --- Portfolios -----------------------------------------------------------------------

    def _portfolios(self, batch: list[_Appr]) -> None:
        """Reviews, journals, English results and mobility for a batch of apprenticeships."""
        reviews: list[_ReviewPlan] = []
        situations: list[tuple[dict[str, Any], list[int]]] = []
        english: list[dict[str, Any]] = []
        mobility: list[dict[str, Any]] = []
        for appr in batch:
            semesters = [
                (s, *semester_dates(appr.starts_on, s)) for s in range(1, SEMESTER_COUNT + 1)
            ]
            started = [sem for sem in semesters if sem[1] <= self.today]
            reviews += self._review_plans(appr, semesters)
            for _semester, starts_on, ends_on in started:
                situations += self._situations(appr, starts_on, ends_on)
            english += self._english(appr, len(started))
            mobility += self._mobility(appr, started)

        review_ids = self._insert_ids(
            SemesterReview,
            [
                {
                    "apprenticeship_id": plan.appr.id,
                    "semester": plan.semester,
                    "starts_on": plan.starts_on,
                    "ends_on": plan.ends_on,
                    "agreed_summary": plan.summary,
                    "version": 2 if RatingSource.AGREED in plan.ratings else 1,
                    "locked_at": plan.signed_at[-1] if plan.locked else None,
                    **self._stamp(),
                }
                for plan in reviews
            ],
        )
        assessments, ratings, signatures = [], [], []
        for plan, review_id in zip(reviews, review_ids, strict=True):
            plan.id = review_id
            assessments += self._assessment_rows(plan)
            ratings += self._rating_rows(plan)
            signatures += self._signature_rows(plan)
        self._insert(PartyAssessment, assessments)
        self._insert(CompetencyRating, ratings)
        self._insert(Signature, signatures)

        situation_ids = self._insert_ids(WorkSituation, [row for row, _c in situations])
        self._insert(
            situation_competencies,
            [
                {"work_situation_id": situation_id, "competency_id": competency_id}
                for situation_id, (_row, competencies) in zip(
                    situation_ids, situations, strict=True
                )
                for competency_id in competencies
            ],
        )
        self._insert(EnglishResult, english)
        self._insert(MobilityPeriod, mobility)
        self.counts.update(
            {
                "work situations": len(situations),
                "signed reviews": sum(1 for p in reviews if p.locked),
                "past reviews unsigned": sum(
                    1 for p in reviews if p.ends_on < self.today and not p.locked
                ),
                "English results": len(english),
                "mobility periods": len(mobility),
            }
        )

    def _review_plans(
        self, appr: _Appr, semesters: list[tuple[int, date, date]]
    ) -> list[_ReviewPlan]:
        rng = self.rng
        ref = self.referentials[appr.certification_id]
        ability = rng.gauss(0, 0.35)
        reached: dict[int, int] = {}  # competency -> agreed level so far (levels drift upward)
        past = [sem for sem in semesters if sem[2] < self.today]
        plans = []
        for semester, starts_on, ends_on in semesters:
            plan = _ReviewPlan(appr, semester, starts_on, ends_on)
            plans.append(plan)
            if starts_on > self.today:
                continue
            if ends_on >= self.today:  # the current semester: a self-assessment under way
                if rng.random() < 0.3:
                    self._assess(plan, ref, ability, reached, (RatingSource.APPRENTICE,))
                continue
            latest = semester == past[-1][0]
            if rng.random() < (0.15 if latest else 0.02):
                stage = rng.choice(("parties", "agreed", "signing"))
            else:
                stage = "locked"
            parties: tuple[RatingSource, ...] = PARTY_SOURCES
            if stage == "parties":
                parties = tuple(rng.sample(PARTY_SOURCES, rng.randint(1, 2)))
            self._assess(plan, ref, ability, reached, parties, agreed=stage != "parties")
            if stage == "parties":
                continue
            signer_count = {"agreed": 0, "signing": rng.randint(1, 2), "locked": 3}[stage]
            plan.signers = PARTY_SOURCES[:signer_count]
            moment = plan.assessed_at or _at(ends_on, rng)
            for _ in plan.signers:
                moment += timedelta(days=rng.randint(0, 9), minutes=rng.randint(5, 600))
                plan.signed_at.append(min(moment, self.now))
            content = agreed_content(
                cast(Apprenticeship, _ApprRef(appr.id)),
                cast(SemesterReview, _ReviewRef(semester, plan.summary)),
                ref,
                cast(
                    "dict[int, CompetencyRating]",
                    {r.competency_id: r for r in plan.ratings[RatingSource.AGREED]},
                ),
            )
            plan.content_hash = sha256_hex(content)
        return plans

    def _assess(
        self,
        plan: _ReviewPlan,
        ref: ReferentialView,
        ability: float,
        reached: dict[int, int],
        parties: tuple[RatingSource, ...],
        *,
        agreed: bool = False,
    ) -> None:
        """Ratings of ``parties`` (and the agreed ones) for every competency of the review."""
        rng = self.rng
        semester = plan.semester
        not_observed_rate = {1: 0.12, 2: 0.07}.get(semester, 0.03)
        by_source: dict[RatingSource, list[_Rating]] = {s: [] for s in parties}
        agreed_rows: list[_Rating] = []
        for competency in ref.competencies:
            cid = competency.id
            if rng.random() < not_observed_rate:
                agreed_rows.append(_Rating(cid, None, True, ""))
                for source in parties:
                    if rng.random() < 0.85:
                        by_source[source].append(_Rating(cid, None, True, ""))
                    else:
                        by_source[source].append(_Rating(cid, LEVEL_MIN, False, ""))
                continue
            mean = 0.9 + 0.55 * (semester - 1) + ability - self.difficulty[cid]
            level = max(reached.get(cid, LEVEL_MIN), self._clamp(round(rng.gauss(mean, 0.35))))
            comment = rng.choice(RATING_COMMENTS) if rng.random() < 0.08 else ""
            agreed_rows.append(_Rating(cid, level, False, comment))
            if agreed:
                reached[cid] = level
            tutor = self._clamp(level + rng.choice((-1, 0, 0, 0, 0, 1)))
            own = {
                RatingSource.TUTOR: tutor,
                RatingSource.SUPERVISOR: self._clamp(level + rng.choice((-1, 0, 0, 0, 0, 0, 1))),
                RatingSource.APPRENTICE: self._clamp(level + rng.choice((-1, 0, 0, 0, 1, 1))),
            }
            if rng.random() < 0.04:  # the apprentice and the tutor see it differently
                own[RatingSource.APPRENTICE] = tutor + 2 if tutor + 2 <= LEVEL_MAX else tutor - 2
            for source in parties:
                note = rng.choice(RATING_COMMENTS) if rng.random() < 0.03 else ""
                by_source[source].append(_Rating(cid, own[source], False, note))
        plan.parties = parties
        plan.ratings = dict(by_source)
        day = plan.ends_on - timedelta(days=rng.randint(0, 12))
        if day >= self.today:  # a self-assessment of the current semester
            day = max(plan.starts_on, self.today - timedelta(days=rng.randint(1, 20)))
        plan.assessed_at = min(_at(day, rng), self.now)
        if agreed:
            plan.ratings[RatingSource.AGREED] = agreed_rows
            plan.summary = (
                f"Semestre {semester} : progression conforme aux attendus. Points forts : "
                f"{rng.choice(STRENGTHS)} et {rng.choice(STRENGTHS)}. Axe de progrès : "
                f"{rng.choice(IMPROVEMENTS)}."
            )

    @staticmethod
    def _clamp(level: int) -> int:
        return min(LEVEL_MAX, max(LEVEL_MIN, level))

    def _party_user(self, appr: _Appr, source: RatingSource) -> int:
        return {
            RatingSource.APPRENTICE: appr.apprentice_id,
            RatingSource.TUTOR: appr.tutor_id,
            RatingSource.SUPERVISOR: appr.supervisor_id,
            RatingSource.AGREED: appr.supervisor_id,
        }[source]

    def _assessment_rows(self, plan: _ReviewPlan) -> list[dict[str, Any]]:
        moment = plan.assessed_at or self.now
        return [
            {
                "review_id": plan.id,
                "party": source,
                "general_comment": self.rng.choice(GENERAL_COMMENTS[source]),
                "version": 1,
                "updated_by_id": self._party_user(plan.appr, source),
                "created_at": moment,
                "updated_at": moment,
            }
            for source in plan.parties
        ]

    def _rating_rows(self, plan: _ReviewPlan) -> list[dict[str, Any]]:
        moment = plan.assessed_at or self.now
        return [
            {
                "review_id": plan.id,
                "competency_id": r.competency_id,
                "source": source,
                "level": r.level,
                "not_observed": r.not_observed,
                "comment": r.comment,
                "updated_at": moment,
                "updated_by_id": self._party_user(plan.appr, source),
            }
            for source, rows in plan.ratings.items()
            for r in rows
        ]

    def _signature_rows(self, plan: _ReviewPlan) -> list[dict[str, Any]]:
        return [
            {
                "review_id": plan.id,
                "signer_id": self._party_user(plan.appr, role),
                "role": role,
                "signed_at": signed_at,
                "ip": f"203.0.113.{self.rng.randint(1, 254)}",
                "user_agent": self.rng.choice(USER_AGENTS),
                "method": "password",
                "content_hash": plan.content_hash,
                "voided_at": None,
                "void_reason": None,
            }
            for role, signed_at in zip(plan.signers, plan.signed_at, strict=True)
        ]

    def _situations(
        self, appr: _Appr, starts_on: date, ends_on: date
    ) -> list[tuple[dict[str, Any], list[int]]]:
        rng = self.rng
        current = ends_on >= self.today
        last_day = min(ends_on, self.today - timedelta(days=1))
        span = (last_day - starts_on).days
        if span < 7:
            return []
        count = rng.randint(SITUATIONS_PER_SEMESTER - 2, SITUATIONS_PER_SEMESTER + 2)
        if current:
            count = max(1, round(count * span / (ends_on - starts_on).days))
        pools = self.pools[appr.certification_id]
        result = []
        for _ in range(count):
            first = starts_on + timedelta(days=rng.randint(0, span))
            last = min(first + timedelta(days=rng.choice((0, 1, 2, 4, 6, 9, 13, 20, 30))), last_day)
            if current and (self.today - last).days < 21:
                status = rng.choices(STATUSES, (35, 40, 25))[0]
            elif current:
                status = rng.choices(STATUSES, (8, 20, 72))[0]
            else:
                status = rng.choices(STATUSES, (0, 8, 92))[0]
            created = _at(last + timedelta(days=rng.randint(0, 3)), rng)
            submitted = acknowledged = None
            if status is not SituationStatus.DRAFT:
                submitted = created + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 8))
            if status is SituationStatus.ACKNOWLEDGED and submitted is not None:
                acknowledged = submitted + timedelta(
                    days=rng.randint(1, 12), hours=rng.randint(1, 6)
                )
                if acknowledged > self.now:  # not yet read by the tutor
                    status, acknowledged = SituationStatus.SUBMITTED, None
            created, submitted = min(created, self.now), submitted and min(submitted, self.now)
            title, context, actions, results, learnings = rng.choice(ACTIVITIES)
            piece = rng.choice(PIECES)
            values = {
                "piece": piece,
                "of_piece": ("d'" if piece[0] in "aeiouéh" else "de ") + piece,
                "workshop": rng.choice(WORKSHOPS),
                "indicator": rng.choice(INDICATORS),
                "method": rng.choice(METHODS),
                **{kind: rng.choice(names) for kind, names in SOFTWARE.items()},
                "team": rng.choice(TEAMS),
                "n": rng.randint(3, 12),
                "pct": rng.randint(5, 40),
                "weeks": rng.randint(2, 10),
                "score": rng.randint(68, 92),
            }
            pool = rng.choice(pools)
            competencies = rng.sample(pool, min(len(pool), rng.choice((1, 2, 2, 3))))
            result.append(
                (
                    {
                        "apprenticeship_id": appr.id,
                        "title": title.format(**values)[:200],
                        "starts_on": first,
                        "ends_on": last,
                        "context": context.format(**values),
                        "actions": actions.format(**values),
                        "results": results.format(**values),
                        "learnings": learnings.format(**values),
                        "status": status,
                        "submitted_at": submitted,
                        "acknowledged_at": acknowledged,
                        "reviewed_by_id": appr.tutor_id if acknowledged else None,
                        "tutor_comment": (
                            rng.choice(TUTOR_COMMENTS)
                            if acknowledged and rng.random() < 0.3
                            else ""
                        ),
                        "version": 1,
                        "created_at": created,
                        "updated_at": acknowledged or submitted or created,
                    },
                    competencies,
                )
            )
        return result

    def _english(self, appr: _Appr, semesters_started: int) -> list[dict[str, Any]]:
        rng = self.rng
        chance = 0.9 if semesters_started >= 5 else 0.6 if semesters_started >= 3 else 0.3
        if rng.random() >= chance:
            return []
        levels = [rng.choices(ENGLISH_LEVELS, ENGLISH_WEIGHTS)[0]]
        if levels[0] == "B1" and semesters_started >= 4 and rng.random() < 0.5:
            levels.append("B2")  # a retake after an English course
        earliest = appr.starts_on + timedelta(days=60)
        latest = self.today - timedelta(days=1)
        days = sorted(
            earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
            for _ in levels
        )
        rows = []
        for level, taken_on in zip(levels, days, strict=True):
            test_name, score = self._english_score(level)
            rows.append(
                {
                    "apprenticeship_id": appr.id,
                    "test_name": test_name,
                    "score": score,
                    "cefr_level": level,
                    "taken_on": taken_on,
                    **self._stamp(),
                }
            )
        return rows

    def _english_score(self, level: str) -> tuple[str, str]:
        rng = self.rng
        test = rng.choice(("TOEIC", "TOEIC", "IELTS", "Linguaskill", "TOEFL", "Cambridge"))
        if test == "TOEIC":
            low, high = {"B1": (550, 780), "B2": (785, 940), "C1": (945, 990)}.get(
                level, (945, 990)
            )
            return "TOEIC Listening and Reading", f"{rng.randrange(low, high + 1, 5)}/990"
        if test == "IELTS":
            bands = {"B1": ("4.5", "5.0", "5.5"), "B2": ("6.0", "6.5"), "C1": ("7.0", "7.5", "8.0")}
            return "IELTS Academic", rng.choice(bands.get(level, ("8.5", "9.0")))
        if test == "TOEFL":
            low, high = {"B1": (42, 71), "B2": (72, 94), "C1": (95, 114)}.get(level, (115, 120))
            return "TOEFL iBT", f"{rng.randint(low, high)}/120"
        if test == "Linguaskill":  # its scale stops at C1 (180 and above)
            low, high = {"B1": (140, 159), "B2": (160, 179)}.get(level, (180, 180))
            return "Linguaskill Business", str(rng.randint(low, high))
        ranges = {"B1": (140, 159), "B2": (160, 179), "C1": (180, 199), "C2": (200, 230)}
        low, high = ranges[level]
        exam = {"B1": "B1 Preliminary", "B2": "B2 First", "C1": "C1 Advanced"}.get(
            level, "C2 Proficiency"
        )
        return f"Cambridge {exam}", str(rng.randint(low, high))

    def _mobility(self, appr: _Appr, started: list[tuple[int, date, date]]) -> list[dict[str, Any]]:
        rng = self.rng
        past = [sem for sem in started if sem[2] < self.today]
        if not past:
            return []
        if len(started) >= 5:
            weeks = rng.choices((0, rng.randint(4, 8), rng.randint(9, 16)), (10, 15, 75))[0]
        elif len(started) >= 3:
            weeks = rng.choices((0, rng.randint(4, 8), rng.randint(9, 16)), (55, 20, 25))[0]
        else:
            weeks = rng.choices((0, rng.randint(4, 12)), (85, 15))[0]
        if weeks == 0:
            return []
        _semester, starts_on, ends_on = rng.choice(past)
        room = (ends_on - starts_on).days - 7 * weeks
        first = starts_on + timedelta(days=rng.randint(0, max(0, room)))
        first -= timedelta(days=first.weekday())  # a Monday
        first = max(first, starts_on)
        country, host = rng.choice(MOBILITY_HOSTS)
        return [
            {
                "apprenticeship_id": appr.id,
                "country": country,
                "host": host,
                "starts_on": first,
                "ends_on": first + timedelta(days=7 * weeks - 1),
                **self._stamp(),
            }
        ]


def seed_demo(
    session: Session,
    apprentices: int = 12,
    seed: int = 2026,
    *,
    today: date | None = None,
    cohort_size: int = COHORT_SIZE,
) -> DemoReport:
    """Create the demo school once; a second run changes nothing and reports the logins."""
    existing = session.scalars(select(User).where(User.email == ADMIN_EMAIL)).one_or_none()
    if existing is not None:
        return DemoReport(created=False, logins=_sample_logins(session))

    certifications = session.scalars(select(Certification).order_by(Certification.rncp_code)).all()
    if not certifications:
        raise RuntimeError("Load the referentials first: livret seed referentials")
    if apprentices < 1 or cohort_size < 1:
        raise ValueError("apprentices and cohort_size must be positive")
    builder = _SchoolBuilder(session, random.Random(seed), today or date.today(), certifications)
    counts = builder.build(apprentices, cohort_size)
    audit.record(
        session, "demo.seed", details={"apprentices": apprentices, "seed": seed, "counts": counts}
    )
    return DemoReport(created=True, logins=_sample_logins(session), counts=counts)


def _sample_logins(session: Session) -> list[tuple[str, str]]:
    """One account of each role, the ones a newcomer tries first."""
    first = session.scalars(select(Apprenticeship).order_by(Apprenticeship.id).limit(1)).first()
    logins = [("admin", ADMIN_EMAIL)]
    if first is not None:
        rows = session.execute(
            select(User.id, User.email).where(
                User.id.in_([first.apprentice_id, first.tutor_id, first.supervisor_id])
            )
        ).tuples()
        emails = {user_id: email for user_id, email in rows}
        logins += [
            ("apprentice", emails[first.apprentice_id]),
            ("tutor", emails[first.tutor_id]),
            ("supervisor", emails[first.supervisor_id]),
        ]
    return logins
