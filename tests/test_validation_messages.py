"""Pydantic's validation errors reach people in their language, never as raw English."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.web.validation_messages import message_of
from tests.helpers import Personas, bearer


def test_known_error_types_get_our_messages_with_their_limits() -> None:
    too_big = {
        "type": "less_than_equal",
        "msg": "Input should be less than or equal to 12",
        "ctx": {"le": 12},
    }
    assert message_of(too_big, "fr") == "Au plus 12."
    assert message_of(too_big, "en") == "At most 12."
    long = {
        "type": "string_too_long",
        "msg": "String should have at most 5 characters",
        "ctx": {"max_length": 5},
    }
    assert message_of(long, "fr") == "5 caractères au maximum."
    assert (
        message_of({"type": "missing", "msg": "Field required"}, "fr")
        == "Ce champ est obligatoire."
    )


def test_an_unknown_english_message_is_not_shown_to_a_french_reader() -> None:
    odd = {"type": "some_new_type", "msg": "Input should be a valid thing"}
    assert message_of(odd, "fr") == "Cette valeur n'est pas valide."
    assert message_of(odd, "en") == "Input should be a valid thing"


def test_the_api_answers_validation_errors_in_the_callers_language(
    client: TestClient, db: Session, personas: Personas
) -> None:
    personas.admin.locale = "fr"
    db.flush()
    answer = client.post(
        "/api/v1/users",
        json={"email": "x@example.org", "full_name": "X", "locale": "de", "colour": "blue"},
        headers=bearer(db, personas.admin),
    )
    assert answer.status_code == 422
    messages = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert messages["colour"] == "Champ inconnu."
    assert messages["locale"].startswith("Valeurs possibles")
    assert not any("Input should" in m for m in messages.values())
