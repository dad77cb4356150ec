"""One shape for invalid input, and the checks every text and number goes through.

Invalid input is always a mapping of field to message (:class:`FieldErrors`): forms show each
message next to its field, the API lists them as problem+json ``errors``, the CSV import prints
them per line. Messages are English msgids with ``{placeholders}``, translated where shown.

The checks here are the ones that apply to every input, whoever sends it: text holds no control
characters (PostgreSQL cannot store NUL; the others have no business in a name or a comment),
integers that reach the database fit its column, digits are ASCII digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from app.i18n import N_
from app.services.errors import DomainError, InvalidInput

# The largest value of an INTEGER column (PostgreSQL's int4): every id, every count we store.
MAX_DB_INT = 2_147_483_647
# Names of people, organisations and cohorts.
NAME_MAX = 200

FORM_INVALID = N_("Some fields are missing or invalid.")
CONTROL_CHARACTER = N_("The text contains a character that is not allowed.")
REQUIRED = N_("This field is required.")
TOO_LONG = N_("At most {n} characters.")

Message = tuple[str, dict[str, Any]]
T = TypeVar("T")


class FieldErrors(InvalidInput):
    """Invalid input, field by field: ``messages`` maps a field to ``(msgid, params)``.

    ``message`` is the summary (for the page's message area or the problem's ``detail``)."""

    def __init__(
        self, messages: Mapping[str, Message], message: str = FORM_INVALID, **params: Any
    ) -> None:
        super().__init__(message, field_errors=dict.fromkeys(messages, "invalid"), **params)
        self.messages = dict(messages)

    @classmethod
    def single(cls, field: str, message: str, **params: Any) -> FieldErrors:
        """One field's problem, which is also the summary."""
        return cls({field: (message, params)}, message, **params)


def field_messages(exc: DomainError) -> dict[str, Message]:
    """The field → message mapping of any domain error (an error that names fields without
    their own message gives each of them its summary)."""
    if isinstance(exc, FieldErrors):
        return dict(exc.messages)
    return {name: (exc.message, exc.params) for name in exc.field_errors}


class Collector:
    """Gathers every problem of a form before raising them together."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}

    def add(self, field: str, message: str, **params: Any) -> None:
        self.messages.setdefault(field, (message, params))

    def __contains__(self, field: str) -> bool:
        return field in self.messages

    def __bool__(self) -> bool:
        return bool(self.messages)

    def merge(self, messages: Mapping[str, Message]) -> None:
        """Record problems found elsewhere (a rule that answers field → message)."""
        for field, message in messages.items():
            self.messages.setdefault(field, message)

    def check(self, field: str, check: Callable[[], T]) -> T | None:
        """Run ``check``; record its :class:`InvalidInput` under ``field`` (or under the fields
        it names) instead of raising. Returns the check's value, or None when it failed."""
        try:
            return check()
        except InvalidInput as exc:
            found = field_messages(exc) or {field: (exc.message, exc.params)}
            for name, message in found.items():
                self.messages.setdefault(name, message)
            return None

    def raise_if_any(self) -> None:
        """Raise every recorded problem; a single one is also the summary."""
        if len(self.messages) == 1:
            [(message, params)] = self.messages.values()
            raise FieldErrors(self.messages, message, **params)
        if self.messages:
            raise FieldErrors(self.messages)


# --- Text ------------------------------------------------------------------------------------

# Control characters (Unicode category Cc) but tab and line breaks, and lone surrogates (Cs),
# which no encoding can store.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


def forbidden_character(value: str) -> str | None:
    """The first character of ``value`` that no text may hold, or None."""
    found = _FORBIDDEN.search(value)
    return found.group() if found else None


def check_text(field: str, value: str) -> str:
    """Refuse text holding a forbidden character (422, naming the field)."""
    if forbidden_character(value) is not None:
        raise FieldErrors.single(field, CONTROL_CHARACTER)
    return value


def one_line(value: str) -> str:
    """``value`` with its runs of white space folded into one space, stripped."""
    return _SPACES.sub(" ", value).strip()


def text(
    field: str,
    value: str,
    *,
    max_length: int,
    required: bool = False,
    required_message: str = REQUIRED,
    too_long_message: str = TOO_LONG,
    single_line: bool = False,
) -> str:
    """A text field: no forbidden character, stripped (or, ``single_line``, with its runs of
    white space folded into one space), present when ``required``, at most ``max_length``."""
    check_text(field, value)
    value = one_line(value) if single_line else value.strip()
    if required and not value:
        raise FieldErrors.single(field, required_message)
    if len(value) > max_length:
        raise FieldErrors.single(field, too_long_message, n=max_length)
    return value


def name(field: str, value: str, *, required: bool = True) -> str:
    """A person's, an organisation's or a cohort's name: one line, at most :data:`NAME_MAX`."""
    return text(field, value, max_length=NAME_MAX, required=required, single_line=True)


def iter_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` (nested lists, tuples and mappings), with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from iter_strings(item, f"{path}.{index}" if path else str(index))


# --- Numbers ---------------------------------------------------------------------------------

_ASCII_DIGITS = re.compile(r"[0-9]+")


def ascii_int(raw: str, *, max_digits: int = 9) -> int | None:
    """``raw`` as an integer when it is only ASCII digits (``²`` and ``١`` are not), or None."""
    raw = raw.strip()
    if len(raw) > max_digits or not _ASCII_DIGITS.fullmatch(raw):
        return None
    return int(raw)


def fits_db_int(value: int) -> bool:
    return -MAX_DB_INT - 1 <= value <= MAX_DB_INT
