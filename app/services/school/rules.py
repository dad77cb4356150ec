"""The rules of the school's records, each in one place: what makes a valid new
apprenticeship (whoever creates it: the API by ids, the admin form by emails, the CSV import by
line), how semesters are counted, what a SIRET is.

Callers resolve their own references (an id, an email, a name) and hand the result to
:func:`apprenticeship_problems`, which answers field → message in the caller's field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from app.i18n import N_
from app.models import OrganisationKind, User
from app.services import validation
from app.services.validation import Message

SEMESTERS_MIN, SEMESTERS_MAX = 1, 12
DEFAULT_SEMESTERS = 6
SIRET_DIGITS = 14

THREE_PEOPLE = N_("The apprentice, the tutor and the supervisor must be three people.")
DEACTIVATED = N_("This account is deactivated.")
END_BEFORE_START = N_("The end date must be after the start date.")
SEMESTER_RANGE = N_("The number of semesters must be between 1 and 12.")
NOT_A_COMPANY = N_("This name belongs to a school, not a company.")
ALREADY_IN_COHORT = N_("This apprentice already has an apprenticeship in this cohort.")
ROLES = ("apprentice", "tutor", "supervisor")


@dataclass(frozen=True)
class PersonRef:
    """A party to a new apprenticeship: an account (``of``), or one the CSV import will
    create (active, known by its email)."""

    email: str
    active: bool = True

    @classmethod
    def of(cls, user: User) -> PersonRef:
        return cls(user.email, user.is_active)


@dataclass(frozen=True)
class ApprenticeshipDraft:
    """A new apprenticeship with its references resolved. ``None`` means the caller could not
    resolve it and has already said why (or, for the company, that it will be created)."""

    apprentice: PersonRef | None
    tutor: PersonRef | None
    supervisor: PersonRef | None
    company_kind: OrganisationKind | None
    starts_on: date | None
    ends_on: date | None
    semester_count: int | None
    apprentice_in_cohort: bool = False  # the apprentice already has one in this cohort


# The draft's parts, named as the caller names its fields.
DEFAULT_FIELDS: Mapping[str, str] = {
    "apprentice": "apprentice_id",
    "tutor": "tutor_id",
    "supervisor": "supervisor_id",
    "company": "company_id",
    "cohort": "cohort_id",
    "starts_on": "starts_on",
    "ends_on": "ends_on",
    "semester_count": "semester_count",
}


# The same, as the admin form and the CSV import name them.
BY_EMAIL_FIELDS: Mapping[str, str] = {
    **DEFAULT_FIELDS,
    "apprentice": "apprentice_email",
    "tutor": "tutor_email",
    "supervisor": "supervisor_email",
    "company": "company_name",
}


def apprenticeship_problems(
    draft: ApprenticeshipDraft, fields: Mapping[str, str] = DEFAULT_FIELDS
) -> dict[str, Message]:
    """Everything wrong with ``draft``, field by field (empty when it may be created)."""
    problems: dict[str, Message] = {}

    def add(part: str, message: str, **params: object) -> None:
        problems.setdefault(fields[part], (message, dict(params)))

    seen: set[str] = set()
    for role in ROLES:
        person: PersonRef | None = getattr(draft, role)
        if person is None:
            continue
        if not person.active:
            add(role, DEACTIVATED)
        if person.email in seen:
            add(role, THREE_PEOPLE)
        seen.add(person.email)
    if draft.company_kind is not None and draft.company_kind is not OrganisationKind.COMPANY:
        add("company", NOT_A_COMPANY)
    if (
        draft.starts_on is not None
        and draft.ends_on is not None
        and draft.ends_on <= draft.starts_on
    ):
        add("ends_on", END_BEFORE_START)
    if draft.semester_count is not None and not (
        SEMESTERS_MIN <= draft.semester_count <= SEMESTERS_MAX
    ):
        add("semester_count", SEMESTER_RANGE)
    if draft.apprentice_in_cohort:
        add("apprentice", ALREADY_IN_COHORT)
    return problems


def clean_siret(value: str) -> str | None:
    """A SIRET is 14 ASCII digits; spaces are ignored. None when empty; ValueError otherwise."""
    digits = "".join(value.split())
    if not digits:
        return None
    if len(digits) != SIRET_DIGITS or validation.ascii_int(digits, max_digits=14) is None:
        raise ValueError(digits)
    return digits


def is_active(ends_on: date, today: date) -> bool:
    """An apprenticeship is active until its end date has passed, one that has not started
    yet included: it needs its three parties either way. The model has no status or archive
    flag, so the end date is what ends a contract."""
    return today <= ends_on
