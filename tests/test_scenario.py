"""Issue acceptance scenario, end to end through the JSON API: an admin creates an
apprenticeship; the apprentice logs three situations over two blocks and submits them; the
tutor acknowledges; the three parties assess semester 1, agree and sign; progress shows the
expected percentages; the locked review refuses changes; tampering is detected."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.referentials.views import referential_for
from tests.factories import PASSWORD, certification, make_cohort, make_organisation, make_user
from tests.helpers import bearer

API = "/api/v1"


def test_the_whole_semester_through_the_api(client, db: Session) -> None:
    admin = make_user(db, name="Ada Admin", is_admin=True)
    apprentice = make_user(db, name="Alice Apprentie")
    tutor = make_user(db, name="Thomas Tuteur")
    supervisor = make_user(db, name="Sophie Responsable")
    h = {u: bearer(db, u) for u in (admin, apprentice, tutor, supervisor)}

    # 1. The admin creates the apprenticeship (RNCP39303, six semesters from 1 Sept 2025).
    created = client.post(
        f"{API}/apprenticeships",
        headers=h[admin],
        json={
            "apprentice_id": apprentice.id,
            "tutor_id": tutor.id,
            "supervisor_id": supervisor.id,
            "company_id": make_organisation(db).id,
            "cohort_id": make_cohort(db).id,
            "starts_on": "2025-09-01",
            "ends_on": "2028-08-31",
        },
    )
    assert created.status_code == 201, created.text
    appr_id = created.json()["id"]

    # 2. Three situations over BC01 and BC02, submitted.
    ref = referential_for(db, certification(db))
    bc01, bc02 = ref.blocks[0], ref.blocks[1]
    bc01_codes = [i.competency.code for i in bc01.items]
    bc02_codes = [i.competency.code for i in bc02.items]
    situations = []
    for title, codes in (
        ("Revue de conception du support moteur", bc01_codes[:2]),
        ("Calcul de dimensionnement d'un arbre", [bc01_codes[2]]),
        ("Mise en place d'un plan de contrôle", bc02_codes[:2]),
    ):
        response = client.post(
            f"{API}/apprenticeships/{appr_id}/work-situations",
            headers=h[apprentice],
            json={
                "title": title,
                "starts_on": "2025-10-01",
                "ends_on": "2025-10-20",
                "context": "Bureau d'études",
                "actions": "…",
                "results": "…",
                "learnings": "…",
                "competency_codes": codes,
            },
        )
        assert response.status_code == 201, response.text
        sid = response.json()["id"]
        assert (
            client.post(f"{API}/work-situations/{sid}/submit", headers=h[apprentice]).status_code
            == 200
        )
        situations.append(sid)

    # 3. The tutor acknowledges them.
    for sid in situations:
        response = client.post(
            f"{API}/work-situations/{sid}/acknowledge",
            headers=h[tutor],
            json={"comment": "Bon travail."},
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "acknowledged"

    # 4. Each party assesses semester 1.
    review_url = f"{API}/apprenticeships/{appr_id}/reviews/1"
    all_ids = [c.id for c in ref.competencies]
    for user, party, level in (
        (apprentice, "apprentice", 3),
        (tutor, "tutor", 3),
        (supervisor, "supervisor", 2),
    ):
        response = client.put(
            f"{review_url}/assessments/{party}",
            headers=h[user],
            json={
                "version": 0,
                "general_comment": f"Avis {party}",
                "ratings": [{"competency_id": cid, "level": level} for cid in all_ids],
            },
        )
        assert response.status_code == 200, response.text

    # 5. They agree: BC01 fully acquired (3/4), BC02 half acquired, the rest not acquired.
    agreed = {cid: 1 for cid in all_ids}
    agreed.update(dict.fromkeys(bc01.competency_ids, 3))
    agreed[bc01.competency_ids[0]] = 4
    half = len(bc02.competency_ids) // 2
    agreed.update(dict.fromkeys(bc02.competency_ids[:half], 3))
    agreed.update(dict.fromkeys(bc02.competency_ids[half:], 2))
    response = client.put(
        f"{review_url}/agreed",
        headers=h[tutor],
        json={
            "version": 1,
            "summary": "Semestre réussi.",
            "ratings": [{"competency_id": cid, "level": lvl} for cid, lvl in agreed.items()],
        },
    )
    assert response.status_code == 200, response.text
    for user, role in ((apprentice, "apprentice"), (tutor, "tutor"), (supervisor, "supervisor")):
        response = client.post(
            f"{review_url}/signatures", headers=h[user], json={"role": role, "password": PASSWORD}
        )
        assert response.status_code == 201, response.text
    locked = response.json()
    assert locked["state"] == "locked"

    # 6. Progress shows the expected percentages.
    progress = client.get(f"{API}/apprenticeships/{appr_id}/progress", headers=h[supervisor])
    assert progress.status_code == 200
    blocks = {b["code"]: b for b in progress.json()["blocks"]}
    assert blocks[bc01.code]["acquired_percent"] == 100
    assert blocks[bc01.code]["status"] == "acquired"
    assert blocks[bc02.code]["acquired_percent"] == round(100 * half / len(bc02.competency_ids))
    assert blocks[bc02.code]["status"] == "in_progress"
    assert blocks[ref.blocks[2].code]["acquired_percent"] == 0
    evidence = {c["code"]: c["evidence_count"] for c in blocks[bc01.code]["competencies"]}
    assert evidence[bc01_codes[0]] == 1 and evidence[bc01_codes[3]] == 0
    assert progress.json()["readiness"]["periods_validated"] == 1

    # 7. The locked review refuses any change.
    change = client.put(
        f"{review_url}/agreed",
        headers=h[tutor],
        json={
            "version": locked["version"],
            "ratings": [{"competency_id": all_ids[0], "level": 1}],
        },
    )
    assert change.status_code == 409
    assert change.headers["content-type"].startswith("application/problem+json")

    # 8. Tampering with the stored agreed content is detected.
    intact = client.get(f"{review_url}/verification", headers=h[supervisor]).json()
    assert intact["intact"] is True
    db.execute(
        text(
            "UPDATE competency_ratings SET level = 4 WHERE source = 'agreed' AND level = 1 "
            "AND competency_id = :cid"
        ),
        {"cid": ref.blocks[3].competency_ids[0]},
    )
    db.flush()
    report = client.get(f"{review_url}/verification", headers=h[supervisor]).json()
    assert report["intact"] is False
    assert {s["status"] for s in report["signatures"]} == {"altered"}
