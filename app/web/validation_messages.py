"""Pydantic's validation errors in the reader's language.

Pydantic writes its messages in English ("Input should be less than or equal to 12"). Each
error type we can meet in a request gets a msgid of ours here, with the parameters pydantic
gives in the error's ``ctx``; our own checks (control characters, say) already carry a msgid as
their message. :func:`message_of` is the one place both are turned into what a person reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.i18n import N_, translate

# error type -> (msgid, {placeholder: ctx key})
_MESSAGES: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "missing": (N_("This field is required."), {}),
    "string_too_short": (N_("At least {n} characters."), {"n": "min_length"}),
    "string_too_long": (N_("At most {n} characters."), {"n": "max_length"}),
    "too_short": (N_("At least {n} items."), {"n": "min_length"}),
    "too_long": (N_("At most {n} items."), {"n": "max_length"}),
    "less_than_equal": (N_("At most {limit}."), {"limit": "le"}),
    "less_than": (N_("Less than {limit}."), {"limit": "lt"}),
    "greater_than_equal": (N_("At least {limit}."), {"limit": "ge"}),
    "greater_than": (N_("More than {limit}."), {"limit": "gt"}),
    "int_parsing": (N_("A whole number is expected."), {}),
    "int_type": (N_("A whole number is expected."), {}),
    "int_from_float": (N_("A whole number is expected."), {}),
    "float_parsing": (N_("A number is expected."), {}),
    "float_type": (N_("A number is expected."), {}),
    "bool_parsing": (N_("Yes or no (true or false) is expected."), {}),
    "bool_type": (N_("Yes or no (true or false) is expected."), {}),
    "date_parsing": (N_("A date written YYYY-MM-DD is expected."), {}),
    "date_from_datetime_parsing": (N_("A date written YYYY-MM-DD is expected."), {}),
    "date_from_datetime_inexact": (N_("A date written YYYY-MM-DD is expected."), {}),
    "date_type": (N_("A date written YYYY-MM-DD is expected."), {}),
    "datetime_parsing": (N_("A date and time is expected."), {}),
    "datetime_from_date_parsing": (N_("A date and time is expected."), {}),
    "datetime_type": (N_("A date and time is expected."), {}),
    "literal_error": (N_("Expected one of: {expected}."), {"expected": "expected"}),
    "enum": (N_("Expected one of: {expected}."), {"expected": "expected"}),
    "extra_forbidden": (N_("Unknown field."), {}),
    "json_invalid": (N_("The body is not valid JSON."), {}),
    "string_type": (N_("Text is expected."), {}),
    "list_type": (N_("A list is expected."), {}),
    "dict_type": (N_("An object is expected."), {}),
    "model_type": (N_("An object is expected."), {}),
    "model_attributes_type": (N_("An object is expected."), {}),
    "uuid_parsing": (N_("An identifier is expected."), {}),
}
_FALLBACK = N_("This value is not valid.")


def message_of(error: Mapping[str, Any], locale: str) -> str:
    """The reader's message for one of pydantic's errors (an entry of ``errors()``)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    known = _MESSAGES.get(kind)
    if known is not None:
        msgid, keys = known
        return translate(locale, msgid, **{name: ctx.get(key, "") for name, key in keys.items()})
    if kind == "value_error" and "error" in ctx:
        return translate(locale, str(ctx["error"]))  # a ValueError raised with one of our msgids
    message = str(error.get("msg", ""))
    translated = translate(locale, message)
    # Our own checks give msgids (translated above); an English text of pydantic's we have no
    # entry for is replaced by a neutral message rather than shown in the wrong language.
    return translated if translated != message or locale == "en" else translate(locale, _FALLBACK)
