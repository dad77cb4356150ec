"""CSV import of accounts and apprenticeships: a dry run first, then all or nothing.

File format
-----------
* UTF-8 text (a byte-order mark, as Excel writes for "CSV UTF-8", is tolerated), at most 2 MB
  and 5,000 data rows.
* The separator is ``,`` or ``;``, detected from the header row. Fields may be quoted with
  ``"`` (standard CSV quoting).
* The first row names the columns, in any order, in English or in French (``email_apprenti``,
  ``entreprise``, ``debut``… see :data:`FRENCH_COLUMNS`); case, accents and surrounding spaces
  are ignored.

  Required: ``apprentice_email``, ``apprentice_name``, ``tutor_email``, ``tutor_name``,
  ``supervisor_email``, ``supervisor_name``, ``company_name``, ``cohort_name``, ``starts_on``,
  ``ends_on``. Optional: ``company_siret`` (14 digits, spaces ignored), ``semester_count``
  (1 to 12, default 6), ``apprentice_language``, ``tutor_language``, ``supervisor_language``
  (``fr`` or ``en``: a new account's language, and its invitation's; else the school's
  ``LIVRET_DEFAULT_LOCALE``; the first line that gives one wins). Any other column is an
  error, so a misspelt header is caught.
* One row per apprenticeship. People are matched by email, ignoring case. Someone unknown is
  created without a password (the import can invite them to choose one), and the
  matching ``*_name`` column is then required; for an existing account the name in the file is
  ignored, and a deactivated account is an error. A person may appear on several rows (a tutor
  with several apprentices), with the same name each time.
* Companies are matched by name (ignoring case and repeated spaces) and created when missing,
  with the SIRET if given; a company on several lines may give its SIRET on one of them
  only. The cohort must already exist and is matched by name.
* Dates are ``YYYY-MM-DD`` or ``DD/MM/YYYY``; the end must be after the start.
* Empty lines are skipped. Line numbers are the file's own (the header is line 1).

Errors reported per line: a field that is missing or too long, an invalid email, an unknown or
ambiguous cohort, a bad date, an end before the start, the same apprentice twice in the file or
already in that cohort, the same person in two roles of a row, a deactivated account, a person
or company given two different names or SIRETs. Whole-file errors: larger than 2 MB, more than
5,000 rows, not UTF-8, malformed CSV, a missing, unknown or repeated column, no data row.

:func:`validate` and :func:`validate_text` never write. :func:`run_import` validates the whole
file again, then creates everything in the caller's transaction; if anything is wrong it raises
:class:`ImportRejected` before writing a single row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import DEFAULT_LOCALE, N_
from app.models import Apprenticeship, Cohort, Organisation, OrganisationKind, User
from app.services import audit, validation
from app.services.access import require_admin
from app.services.errors import InvalidInput
from app.services.notifications.outbox import settings_of
from app.services.people import invitations
from app.services.people import users as users_service
from app.services.school import apprenticeships as apprenticeship_service
from app.services.school import rules
from app.services.school.cohorts import create_organisation

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_REPORTED_ERRORS = 500
MAX_NAME = 200
ROLES = rules.ROLES
REQUIRED_COLUMNS = (
    "apprentice_email",
    "apprentice_name",
    "tutor_email",
    "tutor_name",
    "supervisor_email",
    "supervisor_name",
    "company_name",
    "cohort_name",
    "starts_on",
    "ends_on",
)
OPTIONAL_COLUMNS = (
    "company_siret",
    "semester_count",
    "apprentice_language",
    "tutor_language",
    "supervisor_language",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# The French names accepted for each column (accents, case, spaces and hyphens are ignored).
FRENCH_COLUMNS = {
    "apprentice_email": "email_apprenti",
    "apprentice_name": "nom_apprenti",
    "tutor_email": "email_tuteur",
    "tutor_name": "nom_tuteur",
    "supervisor_email": "email_responsable",
    "supervisor_name": "nom_responsable",
    "company_name": "entreprise",
    "company_siret": "siret",
    "cohort_name": "promotion",
    "starts_on": "debut",
    "ends_on": "fin",
    "semester_count": "nombre_semestres",
    "apprentice_language": "langue_apprenti",
    "tutor_language": "langue_tuteur",
    "supervisor_language": "langue_responsable",
}
# A language as a file may spell it (case and accents ignored).
_LANGUAGES = {
    "fr": "fr",
    "francais": "fr",
    "french": "fr",
    "en": "en",
    "anglais": "en",
    "english": "en",
}
_ALIASES = {
    **{french: english for english, french in FRENCH_COLUMNS.items()},
    **{f"courriel_{role}": f"{role_en}_email" for role, role_en in (
        ("apprenti", "apprentice"), ("tuteur", "tutor"), ("responsable", "supervisor")
    )},
    "nom_entreprise": "company_name",
    "date_debut": "starts_on",
    "date_de_debut": "starts_on",
    "date_fin": "ends_on",
    "date_de_fin": "ends_on",
    "nombre_de_semestres": "semester_count",
}  # fmt: skip
# The example the import page shows and the template file holds: it imports as shown (the same
# company on two lines gives its SIRET once).
EXAMPLE_ROWS = (
    (
        "alice.martin@example.org", "Alice Martin", "t.durand@aero.example", "Thomas Durand",
        "s.leroy@ecole.example", "Sophie Leroy", "Aéro Systèmes", "FISA 2025", "2025-09-01",
        "2028-08-31", "12345678901234", "6", "fr", "fr", "fr",
    ),
    (
        "bruno.petit@example.org", "Bruno Petit", "t.durand@aero.example", "Thomas Durand",
        "s.leroy@ecole.example", "Sophie Leroy", "Aéro Systèmes", "FISA 2025", "01/09/2025",
        "31/08/2028", "", "", "en", "", "",
    ),
)  # fmt: skip


def column_name(header_cell: str) -> str:
    """A header cell as a column name: English or French, whatever the case and accents."""
    folded = unicodedata.normalize("NFKD", header_cell.strip().lower())
    name = "".join(ch for ch in folded if not unicodedata.combining(ch))
    name = re.sub(r"[\s-]+", "_", name)
    return _ALIASES.get(name, name)


def example_csv(separator: str = ";") -> str:
    """The example as a file to download and fill in."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(EXAMPLE_ROWS)
    return buffer.getvalue()


_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class LineError:
    """One problem: ``line`` is None for the whole file; ``message`` is a msgid with
    ``{placeholders}`` filled from ``params``."""

    line: int | None
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PersonPlan:
    email: str
    name: str
    user: User | None  # None: will be created
    locale: str = DEFAULT_LOCALE  # a new account's language (the invitation's too)

    @property
    def is_new(self) -> bool:
        return self.user is None


@dataclass(frozen=True)
class CompanyPlan:
    name: str
    siret: str | None
    organisation: Organisation | None  # None: will be created

    @property
    def is_new(self) -> bool:
        return self.organisation is None


@dataclass(frozen=True)
class RowPlan:
    line: int
    apprentice: PersonPlan
    tutor: PersonPlan
    supervisor: PersonPlan
    company: CompanyPlan
    cohort: Cohort
    starts_on: date
    ends_on: date
    semester_count: int


@dataclass
class ImportPlan:
    text: str = ""
    separator: str = ","
    default_locale: str = DEFAULT_LOCALE  # the school's, for new people without a language
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.error_count and bool(self.rows)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def new_people(self) -> list[PersonPlan]:
        found: dict[str, PersonPlan] = {}
        for row in self.rows:
            for person in (row.apprentice, row.tutor, row.supervisor):
                if person.is_new:
                    found.setdefault(person.email, person)
        return list(found.values())

    @property
    def new_companies(self) -> list[CompanyPlan]:
        found: dict[str, CompanyPlan] = {}
        for row in self.rows:
            if row.company.is_new:
                key = row.company.name.casefold()
                if key not in found or (found[key].siret is None and row.company.siret):
                    found[key] = row.company  # the line that gives the SIRET, if one does
        return list(found.values())

    def add_error(self, line: int | None, column: str, message: str, /, **params: Any) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(LineError(line, column, message, params))


@dataclass(frozen=True)
class ImportResult:
    apprenticeships: int
    users: int
    companies: int
    # What was created, in the file's order (the admin page, after its redirect, knows only
    # the counts).
    apprenticeship_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()
    company_ids: tuple[int, ...] = ()
    invited: int = 0  # invitations sent to the new people


class ImportRejected(InvalidInput):
    """The file is not valid: nothing was written. ``plan`` holds the per-line report."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(
            N_("The file has errors: nothing was imported."), field_errors={"file": "invalid"}
        )
        self.plan = plan


# --- Reading ----------------------------------------------------------------------------------


def decode(raw: bytes) -> str | ImportPlan:
    """The file's text, or a plan holding the whole-file error (too large, not UTF-8)."""
    if len(raw) > MAX_BYTES:
        plan = ImportPlan()
        plan.add_error(None, "", N_("The file is larger than {size} MB."), size=MAX_BYTES // 2**20)
        return plan
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        plan = ImportPlan()
        plan.add_error(
            raw[: exc.start].count(b"\n") + 1,
            "",
            N_('This line is not valid UTF-8: save the file as "CSV UTF-8" and try again.'),
        )
        return plan


def validate(session: Session, actor: User, raw: bytes) -> ImportPlan:
    """Dry run on an uploaded file: decode it, then :func:`validate_text`. Writes nothing."""
    require_admin(actor)
    text = decode(raw)
    if isinstance(text, ImportPlan):
        return text
    return validate_text(session, actor, text)


def validate_text(session: Session, actor: User, text: str) -> ImportPlan:
    """Check the whole file against the database. Writes nothing."""
    require_admin(actor)
    text = text.removeprefix("\ufeff")
    plan = ImportPlan(text=text, default_locale=settings_of(session).default_locale)
    if len(text.encode("utf-8")) > MAX_BYTES:
        plan.add_error(None, "", N_("The file is larger than {size} MB."), size=MAX_BYTES // 2**20)
        return plan
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    plan.separator = ";" if first_line.count(";") > first_line.count(",") else ","
    records = _read_records(plan)
    if records is None:
        return plan
    if not records:
        plan.add_error(None, "", N_("The file has no data rows."))
        return plan
    _check_against_database(
        session, plan, [_clean_record(plan, line, record) for line, record in records]
    )
    if plan.error_count:
        plan.rows = []
    return plan


def _read_records(plan: ImportPlan) -> list[tuple[int, dict[str, str]]] | None:
    """Parse the CSV into (line, {column: value}); None after a whole-file error."""
    reader = csv.reader(io.StringIO(plan.text, newline=""), delimiter=plan.separator, strict=True)
    records: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [column_name(cell) for cell in cells]
                if not _header_ok(plan, start, header):
                    return None
                continue
            if len(records) >= MAX_ROWS:
                plan.add_error(None, "", N_("The file has more than {max} rows."), max=MAX_ROWS)
                return None
            if len(cells) != len(header):
                plan.add_error(
                    start,
                    "",
                    N_("This line has {found} fields; the header has {expected}."),
                    found=len(cells),
                    expected=len(header),
                )
                continue
            records.append((start, dict(zip(header, (c.strip() for c in cells), strict=True))))
    except csv.Error as exc:
        plan.add_error(reader.line_num or line, "", N_("Malformed CSV: {detail}."), detail=str(exc))
        return None
    if header is None:
        plan.add_error(None, "", N_("The file is empty."))
        return None
    return records


def _header_ok(plan: ImportPlan, line: int, header: list[str]) -> bool:
    ok = True
    seen: set[str] = set()
    for name in header:
        if name not in COLUMNS:
            plan.add_error(line, name, N_('Unknown column "{name}".'), name=name)
            ok = False
        elif name in seen:
            plan.add_error(line, name, N_('The column "{name}" appears twice.'), name=name)
            ok = False
        seen.add(name)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        plan.add_error(line, "", N_("Missing columns: {names}."), names=", ".join(missing))
        ok = False
    return ok


# --- Checks -----------------------------------------------------------------------------------


@dataclass
class _Record:
    """One line after the checks that need no database: the fields that are valid, and
    whether any was not (the database checks still run on the others)."""

    line: int
    has_errors: bool
    emails: dict[str, str]  # role -> valid email
    names: dict[str, str]
    locales: dict[str, str]  # role -> language given in the file
    company_name: str  # "" if missing or invalid
    company_siret: str | None
    cohort_name: str
    starts_on: date | None
    ends_on: date | None
    semester_count: int


def _parse_date(value: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


_SPACES = re.compile(r"\s+")


def _clean_name(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def _clean_record(plan: ImportPlan, line: int, record: dict[str, str]) -> _Record:
    """Checks that need no database."""
    before = plan.error_count
    for column, value in record.items():
        if validation.forbidden_character(value) is not None:
            plan.add_error(line, column, validation.CONTROL_CHARACTER)
            record = {**record, column: ""}  # reported once, not again as a bad value
    emails: dict[str, str] = {}
    names: dict[str, str] = {}
    locales: dict[str, str] = {}
    for role in ROLES:
        raw_language = record.get(f"{role}_language", "")
        if raw_language:
            language = _LANGUAGES.get(column_name(raw_language))
            if language is None:
                plan.add_error(
                    line,
                    f"{role}_language",
                    N_('Unknown language "{value}": write fr or en.'),
                    value=raw_language,
                )
            else:
                locales[role] = language
        column = f"{role}_email"
        value = record[column]
        if not value:
            plan.add_error(line, column, N_("This field is required."))
        else:
            try:
                emails[role] = users_service.clean_email(value)
            except InvalidInput:
                plan.add_error(line, column, N_('Invalid email address: "{value}".'), value=value)
        names[role] = _clean_name(record[f"{role}_name"])
        if len(names[role]) > MAX_NAME:
            plan.add_error(line, f"{role}_name", N_("At most {n} characters."), n=MAX_NAME)
    company_name = _clean_name(record["company_name"])
    if not company_name:
        plan.add_error(line, "company_name", N_("This field is required."))
    elif len(company_name) > MAX_NAME:
        plan.add_error(line, "company_name", N_("At most {n} characters."), n=MAX_NAME)
        company_name = ""
    siret = None
    try:
        siret = rules.clean_siret(record.get("company_siret", ""))
    except ValueError:
        plan.add_error(line, "company_siret", N_("A SIRET has 14 digits."))
    cohort_name = _clean_name(record["cohort_name"])
    if not cohort_name:
        plan.add_error(line, "cohort_name", N_("This field is required."))
    dates: dict[str, date] = {}
    for column in ("starts_on", "ends_on"):
        value = record[column]
        parsed = _parse_date(value) if value else None
        if not value:
            plan.add_error(line, column, N_("This field is required."))
        elif parsed is None:
            plan.add_error(line, column, N_('Invalid date "{value}": use YYYY-MM-DD.'), value=value)
        else:
            dates[column] = parsed
    semester_count = 6
    raw_count = record.get("semester_count", "")
    if raw_count:
        count = validation.ascii_int(raw_count, max_digits=2)
        if count is None:
            plan.add_error(line, "semester_count", rules.SEMESTER_RANGE)
        else:
            semester_count = count  # its range is the rules' business
    return _Record(
        line,
        plan.error_count != before,
        emails,
        names,
        locales,
        company_name,
        siret,
        cohort_name,
        dates.get("starts_on"),
        dates.get("ends_on"),
        semester_count,
    )


def _chunks(items: Sequence[Any], size: int = _LOOKUP_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_against_database(session: Session, plan: ImportPlan, records: list[_Record]) -> None:
    """Checks across lines and against the database, with a fixed number of queries."""
    all_emails = sorted({email for r in records for email in r.emails.values()})
    users: dict[str, User] = {}
    for chunk in _chunks(all_emails):
        for user in session.scalars(select(User).where(User.email.in_(chunk))):
            users[user.email] = user
    cohorts: dict[str, list[Cohort]] = {}
    for cohort in session.scalars(select(Cohort)):
        cohorts.setdefault(_clean_name(cohort.name).casefold(), []).append(cohort)
    organisations = {
        _clean_name(org.name).casefold(): org for org in session.scalars(select(Organisation))
    }
    existing_pairs: set[tuple[int, int]] = set()
    apprentice_ids = sorted(
        {users[r.emails["apprentice"]].id for r in records if r.emails.get("apprentice") in users}
    )
    for chunk in _chunks(apprentice_ids):
        existing_pairs.update(
            (a, c)
            for a, c in session.execute(
                select(Apprenticeship.apprentice_id, Apprenticeship.cohort_id).where(
                    Apprenticeship.apprentice_id.in_(chunk)
                )
            )
        )

    first_apprentice_line: dict[str, int] = {}
    new_people: dict[str, tuple[str, int]] = {}  # email -> (name, first line)
    new_companies: dict[str, tuple[str | None, int]] = {}  # key -> (siret, first line)
    for record in records:
        before = plan.error_count
        line = record.line
        people: dict[str, PersonPlan] = {}
        for role, email in record.emails.items():
            name = record.names[role]
            known = users.get(email)
            if known is not None:
                people[role] = PersonPlan(email, known.full_name, known, known.locale)
                continue
            if not name:
                plan.add_error(
                    line, f"{role}_name", N_("A name is required to create this account.")
                )
            elif email in new_people and new_people[email][0] != name:
                first_name, first_line = new_people[email]
                plan.add_error(
                    line,
                    f"{role}_name",
                    N_('This person is named "{name}" on line {line}.'),
                    name=first_name,
                    line=first_line,
                )
            else:
                new_people.setdefault(email, (name, line))
            people[role] = PersonPlan(
                email, name, None, record.locales.get(role) or plan.default_locale
            )

        apprentice_email = record.emails.get("apprentice")
        if apprentice_email in first_apprentice_line:
            plan.add_error(
                line,
                "apprentice_email",
                N_("This apprentice already appears on line {line}."),
                line=first_apprentice_line[apprentice_email],
            )
        elif apprentice_email:
            first_apprentice_line[apprentice_email] = line

        row_cohort: Cohort | None = None
        if record.cohort_name:
            matches = cohorts.get(record.cohort_name.casefold(), [])
            if not matches:
                plan.add_error(line, "cohort_name", N_("Unknown cohort."))
            elif len(matches) > 1:
                plan.add_error(
                    line, "cohort_name", N_("Several cohorts have this name: rename one of them.")
                )
            else:
                row_cohort = matches[0]
        apprentice = people["apprentice"].user if "apprentice" in people else None
        key = record.company_name.casefold()
        organisation = organisations.get(key) if key else None
        draft = rules.ApprenticeshipDraft(
            **{
                role: rules.PersonRef(person.email, person.user.is_active if person.user else True)
                if (person := people.get(role)) is not None
                else None
                for role in ROLES
            },
            company_kind=organisation.kind if organisation is not None else None,
            starts_on=record.starts_on,
            ends_on=record.ends_on,
            semester_count=record.semester_count,
            apprentice_in_cohort=apprentice is not None
            and row_cohort is not None
            and (apprentice.id, row_cohort.id) in existing_pairs,
        )
        for column, (message, params) in rules.apprenticeship_problems(
            draft, rules.BY_EMAIL_FIELDS
        ).items():
            plan.add_error(line, column, message, **params)
        if organisation is None and key:
            # A company repeated on several lines may give its SIRET once; two different
            # SIRETs for one name are an error.
            known_siret, first_line = new_companies.setdefault(key, (record.company_siret, line))
            if record.company_siret and known_siret is None:
                new_companies[key] = (record.company_siret, first_line)
            elif record.company_siret and known_siret and record.company_siret != known_siret:
                plan.add_error(
                    line,
                    "company_siret",
                    N_("This company has another SIRET on line {line}."),
                    line=first_line,
                )

        if (
            record.has_errors
            or plan.error_count != before
            or row_cohort is None
            or record.starts_on is None
            or record.ends_on is None
        ):
            continue
        plan.rows.append(
            RowPlan(
                line=line,
                apprentice=people["apprentice"],
                tutor=people["tutor"],
                supervisor=people["supervisor"],
                company=CompanyPlan(
                    organisation.name if organisation else record.company_name,
                    record.company_siret,
                    organisation,
                ),
                cohort=row_cohort,
                starts_on=record.starts_on,
                ends_on=record.ends_on,
                semester_count=record.semester_count,
            )
        )


# --- Writing ----------------------------------------------------------------------------------


def run_import_file(
    session: Session, actor: User, raw: bytes, *, ip: str | None = None, invite: bool = False
) -> ImportResult:
    """:func:`run_import` on a file's bytes (the API's request body)."""
    require_admin(actor)
    text = decode(raw)
    if isinstance(text, ImportPlan):
        raise ImportRejected(text)
    return run_import(session, actor, text, ip=ip, invite=invite)


def run_import(
    session: Session, actor: User, text: str, *, ip: str | None = None, invite: bool = False
) -> ImportResult:
    """Validate ``text`` again, then create every account, company and apprenticeship in the
    caller's transaction, and invite the new people when ``invite``. Raises
    :class:`ImportRejected` (nothing written) if anything is wrong."""
    plan = validate_text(session, actor, text)
    if not plan.ok:
        raise ImportRejected(plan)
    users: dict[str, User] = {}
    for person in plan.new_people:
        users[person.email] = users_service.create_user(
            session,
            email=person.email,
            full_name=person.name,
            password=None,
            locale=person.locale,
            actor=actor,
            ip=ip,
        )
    companies: dict[str, Organisation] = {}
    for company in plan.new_companies:
        companies[company.name.casefold()] = create_organisation(
            session,
            actor,
            name=company.name,
            kind=OrganisationKind.COMPANY,
            siret=company.siret,
            ip=ip,
        )

    def user_id(person: PersonPlan) -> int:
        return (person.user or users[person.email]).id

    apprenticeship_ids = []
    for row in plan.rows:
        company_id = (row.company.organisation or companies[row.company.name.casefold()]).id
        appr = apprenticeship_service.create(
            session,
            actor,
            apprenticeship_service.ApprenticeshipInput(
                apprentice_id=user_id(row.apprentice),
                tutor_id=user_id(row.tutor),
                supervisor_id=user_id(row.supervisor),
                company_id=company_id,
                cohort_id=row.cohort.id,
                starts_on=row.starts_on,
                ends_on=row.ends_on,
                semester_count=row.semester_count,
            ),
            ip=ip,
        )
        apprenticeship_ids.append(appr.id)
    user_ids = tuple(u.id for u in users.values())
    invited = 0
    if invite:
        report = invitations.invite_many(session, settings_of(session), actor, user_ids, ip=ip)
        invited = len(report.sent)
    result = ImportResult(
        len(plan.rows),
        len(users),
        len(companies),
        apprenticeship_ids=tuple(apprenticeship_ids),
        user_ids=user_ids,
        company_ids=tuple(c.id for c in companies.values()),
        invited=invited,
    )
    audit.record(
        session,
        "import.csv",
        actor=actor,
        entity_type="import",
        ip=ip,
        details={
            "sha256": plan.digest,
            "apprenticeships": result.apprenticeships,
            "users_created": result.users,
            "companies_created": result.companies,
            "user_ids": list(user_ids),
            "invited": invited,
        },
    )
    return result
