"""Passwords follow OWASP ASVS 4.0.3: 12 to 128 characters, no composition rules, refused when
zxcvbn finds them guessable, with the reason shown next to the field in the reader's language."""

from __future__ import annotations

import pytest

from app.i18n import translate
from app.services.people import rules
from app.services.people.password_feedback import ZXCVBN_MESSAGES
from app.services.validation import FieldErrors
from tests.helpers import post_form


def _refusal(password: str, **kwargs) -> str:
    with pytest.raises(FieldErrors) as caught:
        rules.check_password(password, **kwargs)
    [(message, params)] = caught.value.messages.values()
    return translate("fr", message, **params)


def test_a_common_password_is_refused_with_the_reason() -> None:
    assert _refusal("motdepasse123") == "Il ressemble à un mot de passe courant."
    assert _refusal("password1234") == "C'est un mot de passe très courant."


def test_length_limits() -> None:
    assert _refusal("x" * 11) == "Le mot de passe doit comporter au moins 12 caractères."
    assert _refusal("correct horse battery " * 6) == (
        "Le mot de passe peut comporter au plus 128 caractères."
    )


def test_a_password_built_on_the_person_s_own_name_is_refused() -> None:
    assert rules.check_password("Thomas Tuteur 2026") is None
    _refusal("Thomas Tuteur 2026", personal=("Thomas Tuteur", "thomas.tuteur@corp.example"))


@pytest.mark.parametrize(
    "password", ["correct horse battery", "Un mot de passe solide", "a new secret!"]
)
def test_passphrases_need_no_symbols_or_digits(password: str) -> None:
    assert rules.check_password(password) is None


def test_every_zxcvbn_message_is_in_the_catalog() -> None:
    untranslated = [m for m in ZXCVBN_MESSAGES if translate("fr", m) == m]
    assert untranslated == []


def test_the_reason_is_shown_next_to_the_field(client, db, settings, personas) -> None:
    from tests.helpers import login_as

    login_as(client, db, settings, personas.admin)
    client.get("/admin")
    response = post_form(
        client,
        settings,
        f"/admin/users/{personas.supervisor_a.id}/password",
        {"password": "motdepasse123"},
    )
    assert response.status_code == 422
    assert 'id="password-error"' in response.text
    assert "Il ressemble à un mot de passe courant." in response.text
