"""The learning loop: corrections recorded by the API, retraining from the database, the
model registry (activate, rollback, integrity, labels, quality) and the routing report, on
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from tests.conftest import new_key
from ticketbot import cli

# A phrasing the bundled tickets never use, and where agents want it to go.
NEW_PHRASING = [
    "Le lecteur Saturne ne lit plus les cartes",
    "lecteur Saturne en panne encore",
    "Saturne refuse mon badge ce matin",
    "le lecteur Saturne clignote rouge",
    "Saturne reader rejects every card",
    "Saturne reader broken again",
    "impossible de passer le lecteur Saturne",
    "the Saturne reader shows an error",
    "Saturne: carte refusée",
    "Saturne ne reconnaît plus personne",
    "lecteur Saturne HS depuis lundi",
    "Saturne reader is offline",
    "encore le lecteur Saturne qui bloque",
    "Saturne card reader not working",
    "mon badge ne passe plus sur Saturne",
    "Saturne reader stuck on red light",
]
TARGET = "Legal"


@pytest.fixture
def desk(api_settings):
    """A running app (watcher polling fast), an admin key (default) and an agent's."""
    from fastapi.testclient import TestClient

    from ticketbot.api.app import create_app

    settings = api_settings.model_copy(update={"model_poll_seconds": 0.2})
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {new_key(client, 'admin', 'root')}"
        client.agent = {"Authorization": f"Bearer {new_key(client, 'agent', 'alice')}"}
        client.url = settings.database_url
        yield client


def create(client, title: str, description: str = "") -> dict:
    response = client.post("/tickets", json={"title": title, "description": description})
    assert response.status_code == 201, response.text
    return response.json()


def run(*args: str, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def corrections(client) -> list[dict]:
    models = client.app.state.service.models
    with models.database.connection_context():
        return [row.__data__ for row in models.correction.select().order_by(models.correction.id)]


def wait_for_version(client, version: str, seconds: float = 10.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if client.get("/health").json()["model_version"] == version:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"the API did not switch to {version} in {seconds} s")


def correct_all(client, department: str = TARGET) -> list[int]:
    numbers = []
    for title in NEW_PHRASING:
        ticket = create(client, title, "bâtiment B")
        assert ticket["department"] != department  # the shipped router does not know yet
        fixed = client.patch(
            f"/tickets/{ticket['id']}", json={"department": department}, headers=client.agent
        )
        assert fixed.status_code == 200, fixed.text
        numbers.append(ticket["id"])
    return numbers


def train(client, capsys, *extra: str) -> dict:
    code, out, err = run(
        "train",
        "department",
        "--from-database",
        "--database-url",
        client.url,
        "--json",
        *extra,
        capsys=capsys,
    )
    assert code == 0, err
    return json.loads(out)


def test_an_agents_department_change_is_recorded_as_a_correction(desk):
    ticket = create(desk, "Écran noir au démarrage", "bureau 214")
    before = time.time()
    changed = desk.patch(f"/tickets/{ticket['id']}", json={"department": "hr"}, headers=desk.agent)
    assert changed.status_code == 200
    again = desk.patch(f"/tickets/{ticket['id']}", json={"department": "Legal"})
    assert again.status_code == 200
    # A status change is no correction; neither is setting the department it already has.
    desk.patch(f"/tickets/{ticket['id']}", json={"status": "resolved", "department": "Legal"})
    rows = corrections(desk)
    assert [(r["from_department"], r["department"], r["by"]) for r in rows] == [
        (ticket["department"], "HR", "alice"),
        ("HR", "Legal", "root"),
    ]
    for row in rows:
        assert row["ticket"] == ticket["id"]
        assert row["predicted_department"] == ticket["department"]
        assert row["confidence"] == ticket["confidence"]
        assert row["model_version"] == ticket["model_version"]
        assert row["at"].timestamp() >= before - 1


def test_a_deleted_ticket_takes_its_corrections_with_it(desk):
    ticket = create(desk, "Fiche de paie fausse")
    desk.patch(f"/tickets/{ticket['id']}", json={"department": "Finance"}, headers=desk.agent)
    assert len(corrections(desk)) == 1
    assert desk.delete(f"/tickets/{ticket['id']}").status_code == 204
    assert corrections(desk) == []


def test_a_model_retrained_from_the_database_routes_the_corrected_phrasing(desk, capsys):
    correct_all(desk)
    manifest = train(desk, capsys)
    sources = manifest["data"]["sources"]
    held_out = manifest["held_out"]
    assert sources["bundled"] == 4450
    assert sources["corrections"] + len(held_out["tickets"]) == len(NEW_PHRASING)
    assert 0 < sources["corrections"] < len(NEW_PHRASING)  # 1 in 5 held out
    assert manifest["data"]["include_confirmed"] is False
    assert manifest["parent"] == desk.get("/health").json()["model_version"]
    assert held_out["compared_with"]["version"] == manifest["parent"]
    assert held_out["rows"] == 213 + len(held_out["tickets"])  # bundled held-out + tickets
    code, out, err = run(
        "models", "activate", manifest["version"], "--database-url", desk.url, capsys=capsys
    )
    assert code == 0, err
    assert wait_for_version(desk, manifest["version"]) < 10
    routed = create(desk, "le lecteur Saturne refuse encore ma carte")
    assert routed["department"] == TARGET
    assert routed["model_version"] == manifest["version"]
    metrics = desk.get("/metrics").text
    assert f'ticketbot_model_info{{version="{manifest["version"]}"}} 1.0' in metrics


def test_confirmed_tickets_count_only_when_asked(desk, capsys):
    for title in ("Mutuelle prélevée deux fois", "Badge refusé au parking"):
        ticket = create(desk, title)
        desk.patch(f"/tickets/{ticket['id']}", json={"status": "resolved"}, headers=desk.agent)
    create(desk, "Imprimante en bourrage")  # still open: not confirmed
    without = train(desk, capsys)
    assert "confirmed" not in without["data"]["sources"]
    with_confirmed = train(desk, capsys, "--include-confirmed")
    assert with_confirmed["data"]["include_confirmed"] is True
    confirmed = with_confirmed["data"]["sources"].get("confirmed", 0)
    assert confirmed + len(with_confirmed["held_out"]["tickets"]) == 2


def test_rollback_steps_back_to_the_previous_version_then_to_the_default(desk, capsys):
    shipped = desk.get("/health").json()["model_version"]
    correct_all(desk)
    first = train(desk, capsys)["version"]
    assert run("models", "activate", first, "--database-url", desk.url, capsys=capsys)[0] == 0
    fixed = desk.patch("/tickets/1", json={"department": "Finance"}, headers=desk.agent)
    assert fixed.status_code == 200
    second = train(desk, capsys)["version"]
    assert second != first
    assert run("models", "activate", second, "--database-url", desk.url, capsys=capsys)[0] == 0
    wait_for_version(desk, second)
    code, out, _ = run("models", "rollback", "--database-url", desk.url, capsys=capsys)
    assert (code, out.strip()) == (0, f"rolled back to {first}")
    wait_for_version(desk, first)
    code, out, _ = run("models", "rollback", "--database-url", desk.url, capsys=capsys)
    assert code == 0 and "configured default" in out
    wait_for_version(desk, shipped)
    code, _, err = run("models", "rollback", "--database-url", desk.url, capsys=capsys)
    assert code == 1 and "nothing to roll back" in err
    code, out, _ = run("models", "list", "--json", "--database-url", desk.url, capsys=capsys)
    listed = json.loads(out)
    assert [v["version"] for v in listed["versions"]] == [first, second]
    assert listed["default"]["active"] is True
    assert [(h["action"], h["version"]) for h in listed["history"]] == [
        ("activate", first),
        ("activate", second),
        ("rollback", first),
        ("rollback", None),
    ]


def test_a_tampered_stored_version_is_never_activated(desk, capsys):
    correct_all(desk)
    version = train(desk, capsys)["version"]
    models = desk.app.state.service.models
    with models.database.connection_context():
        row = models.model_version.get(models.model_version.version == version)
        payload = bytearray(bytes(row.payload))
        payload[len(payload) // 2] ^= 0xFF
        models.model_version.update(payload=bytes(payload)).where(
            models.model_version.id == row.id
        ).execute()
    before = desk.get("/health").json()["model_version"]
    code, _, err = run("models", "activate", version, "--database-url", desk.url, capsys=capsys)
    assert code == 1
    assert "SHA-256" in err and "the active model stays" in err
    assert "Traceback" not in err
    # Activated behind the command's back: every API process refuses it and keeps its model.
    with models.database.connection_context():
        models.model_activation.create(kind="department", version=version, by="mallory")
    desk.app.state.model_watcher.check()
    assert desk.get("/health").json()["model_version"] == before
    assert create(desk, "Écran noir")["model_version"] == before


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def test_other_labels_are_activated_only_with_force(desk, capsys, tmp_path):
    rows = [(f"écran {i} noir", "Hardware") for i in range(25)]
    rows += [(f"logiciel {i} plante", "Software") for i in range(25)]
    data = write_csv(tmp_path / "two.csv", rows)
    version = train(desk, capsys, "--data", str(data))["version"]
    code, _, err = run("models", "activate", version, "--database-url", desk.url, capsys=capsys)
    assert code == 1
    assert "Hardware, Software" in err and "--force" in err
    assert desk.get("/health").json()["model"]["labels"] == [
        "Facilities",
        "Finance",
        "HR",
        "IT",
        "Legal",
    ]
    code, _, err = run(
        "models", "activate", version, "--force", "--database-url", desk.url, capsys=capsys
    )
    assert code == 0, err
    wait_for_version(desk, version)
    assert create(desk, "mon écran reste noir")["department"] == "Hardware"


def test_a_worse_model_is_activated_only_with_force(desk, capsys, tmp_path):
    from ticketbot.api import BUNDLED_TICKETS

    with open(BUNDLED_TICKETS, newline="", encoding="utf-8") as handle:
        bundled = [(r["text"], r["label"]) for r in csv.DictReader(handle)]
    few = [
        row
        for label in sorted({lab for _, lab in bundled})
        for row in [r for r in bundled if r[1] == label][:12]
    ]
    version = train(desk, capsys, "--data", str(write_csv(tmp_path / "few.csv", few)))["version"]
    code, out, err = run("models", "activate", version, "--database-url", desk.url, capsys=capsys)
    assert code == 1, out
    assert "worse than the active model" in err
    assert "held-out slice" in out
    assert (
        run("models", "activate", version, "--force", "--database-url", desk.url, capsys=capsys)[0]
        == 0
    )


def test_the_routing_report_counts_what_the_database_holds(desk, capsys):
    flagged_fixed = create(desk, "bonjour")  # nothing to route: flagged
    assert flagged_fixed["needs_review"] is True
    plain = create(desk, "Le VPN se déconnecte toutes les 5 minutes", "erreur 809")
    assert plain["needs_review"] is False
    fixed = create(desk, "Relire le contrat fournisseur avant signature")
    desk.patch(f"/tickets/{flagged_fixed['id']}", json={"department": "IT"}, headers=desk.agent)
    other = "Finance" if fixed["department"] != "Finance" else "HR"
    desk.patch(f"/tickets/{fixed['id']}", json={"department": other}, headers=desk.agent)
    code, out, err = run("report", "routing", "--json", "--database-url", desk.url, capsys=capsys)
    assert code == 0, err
    report = json.loads(out)
    fixed_flagged = int(fixed["needs_review"])
    assert report["total"] == {
        "tickets": 3,
        "corrected": 2,
        "flagged": 1 + fixed_flagged,
        "corrected_flagged": 1 + fixed_flagged,
        "corrected_not_flagged": 1 - fixed_flagged,
    }
    version = plain["model_version"]
    assert [(r["key"], r["tickets"], r["corrected"]) for r in report["versions"]] == [
        (version, 3, 2)
    ]
    by_department = {r["key"]: r for r in report["departments"]}
    assert by_department[plain["department"]]["tickets"] >= 1
    assert sum(r["tickets"] for r in report["departments"]) == 3
    week = report["versions"][0]["week"]
    assert week.startswith(str(time.gmtime().tm_year)) and "-W" in week
    code, out, _ = run("report", "routing", "--database-url", desk.url, capsys=capsys)
    assert code == 0 and "3 tickets routed, 2 corrected (66.7%)" in out


def test_the_routing_report_plots_to_a_png(desk, capsys, tmp_path):
    ticket = create(desk, "Écran noir au démarrage")
    desk.patch(f"/tickets/{ticket['id']}", json={"department": "HR"}, headers=desk.agent)
    picture = tmp_path / "routing.png"
    code, out, err = run(
        "report", "routing", "--plot", str(picture), "--database-url", desk.url, capsys=capsys
    )
    assert code == 0, err
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot saved to {picture}" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["models", "activate", "department-nope"],
            "no department model version 'department-nope'",
        ),
        (["train", "department", "--from-database", "--out", "x.pkl"], "leave out --out"),
        (
            ["train", "department", "--include-confirmed"],
            "goes with --from-database",
        ),
        (["models", "rollback"], "nothing to roll back"),
    ],
)
def test_learning_commands_say_what_is_wrong(desk, capsys, args, message):
    code, _, err = run(*args, "--database-url", desk.url, capsys=capsys)
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_the_quality_gate_looks_at_the_training_files_part_apart():
    """Held-out corrections are the active model's own mistakes: a candidate better on the
    whole slice thanks to them is still refused when it is worse on the file's part."""
    from ticketbot.api.learning import worse

    fine = {"candidate": 0.95, "active": 0.955, "data_candidate": 0.96, "data_active": 0.965}
    assert worse(fine) is None
    hidden = {"candidate": 0.96, "active": 0.90, "data_candidate": 0.93, "data_active": 0.96}
    assert worse(hidden) == "part of it from the training file: 0.9300 against 0.9600"
    overall = {"candidate": 0.88, "active": 0.90, "data_candidate": None, "data_active": None}
    assert worse(overall) == "held-out slice: 0.8800 against 0.9000"
