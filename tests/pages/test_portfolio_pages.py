"""The apprenticeship page: who may see it, what it shows."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from tests.helpers import Personas, login_as


@pytest.mark.parametrize("who", ["apprentice_a", "tutor_a", "supervisor_a", "admin"])
def test_parties_and_admin_see_the_portfolio(
    client: TestClient, db: Session, settings: Settings, personas: Personas, who: str
) -> None:
    login_as(client, db, settings, getattr(personas, who))
    response = client.get(f"/apprenticeships/{personas.apprenticeship_a.id}")
    assert response.status_code == 200
    text = html.unescape(response.text)
    assert personas.apprentice_a.full_name in text
    for code in ("RNCP39303BC01", "RNCP39303BC04"):
        assert code in text
    assert "<svg" in text and "<title" in text  # charts, with a title
    assert "Progression par bloc (équivalent texte des graphiques)" in text
    assert "Préparation au diplôme" in text


@pytest.mark.parametrize("who", ["tutor_b", "supervisor_b", "apprentice_b", "outsider"])
def test_others_get_404(
    client: TestClient, db: Session, settings: Settings, personas: Personas, who: str
) -> None:
    login_as(client, db, settings, getattr(personas, who))
    response = client.get(f"/apprenticeships/{personas.apprenticeship_a.id}")
    assert response.status_code == 404
    assert personas.apprentice_a.full_name not in response.text


def test_portfolio_lists_what_waits_for_the_apprentice(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    login_as(client, db, settings, personas.apprentice_a)
    text = html.unescape(client.get(f"/apprenticeships/{personas.apprenticeship_a.id}").text)
    assert "Évaluer le semestre 1" in text  # semester 1 has started and is not assessed
