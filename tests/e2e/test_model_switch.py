"""Two real ``ticketbot serve`` processes on one PostgreSQL database switch to a newly
activated department model version while they take requests, with none failed."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest

from tests.support import ServerProcess, reset_postgres_tables, ticketbot_command

pytestmark = pytest.mark.postgres
SWITCH_WITHIN = 10.0  # seconds, from the issue


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ticketbot_command(*args), env=env, capture_output=True, text=True, timeout=300
    )


def test_two_servers_switch_to_an_activated_version_under_load(postgres_url):
    reset_postgres_tables(postgres_url)
    env = {"TICKETBOT_MODEL_POLL_SECONDS": "1"}
    first = ServerProcess(postgres_url, env=env).start()
    second = ServerProcess(postgres_url, env=env)
    second.key = first.key
    second.start()
    try:
        admin = first.session()
        agent = first.session(first.create_key("agent", "alice"))
        before = admin.get(f"{first.url}/health", timeout=10).json()["model_version"]
        for title in ("Le lecteur Saturne refuse les badges", "Saturne reader is broken"):
            ticket = admin.post(f"{first.url}/tickets", json={"title": title}, timeout=10).json()
            fixed = agent.patch(
                f"{first.url}/tickets/{ticket['id']}", json={"department": "Legal"}, timeout=10
            )
            assert fixed.status_code == 200
        trained = run(
            "train",
            "department",
            "--from-database",
            "--database-url",
            postgres_url,
            "--json",
            env=first.env,
        )
        assert trained.returncode == 0, trained.stderr
        version = json.loads(trained.stdout)["version"]
        assert version != before

        results: list[tuple[str, int, str | None, float]] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def load(server: ServerProcess) -> None:
            session = server.session()
            while not stop.is_set():
                try:
                    response = session.post(
                        f"{server.url}/tickets",
                        json={"title": "Écran noir au démarrage"},
                        timeout=10,
                    )
                    body = response.json() if response.status_code == 201 else {}
                    results.append(
                        (
                            server.url,
                            response.status_code,
                            body.get("model_version"),
                            time.monotonic(),
                        )
                    )
                except BaseException as error:  # noqa: BLE001 - every failure is reported
                    errors.append(error)

        threads = [threading.Thread(target=load, args=(s,)) for s in (first, second) * 2]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        activated = run(
            "models", "activate", version, "--database-url", postgres_url, env=first.env
        )
        assert activated.returncode == 0, activated.stderr
        done = time.monotonic()
        switched = {}
        while len(switched) < 2 and time.monotonic() - done < SWITCH_WITHIN + 5:
            for server in (first, second):
                health = admin.get(f"{server.url}/health", timeout=10).json()
                if server.url not in switched and health["model_version"] == version:
                    switched[server.url] = time.monotonic() - done
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(switched) == 2, f"switched: {switched}"
        assert max(switched.values()) <= SWITCH_WITHIN, switched
        statuses = {status for _, status, _, _ in results}
        assert statuses == {201}, statuses
        for server in (first, second):
            mine = [r for r in results if r[0] == server.url]
            assert mine[0][2] == before
            # Once a server has switched, every ticket it routes records the new version.
            assert {r[2] for r in mine if r[3] > done + switched[server.url] + 0.5} == {version}
        listed = run("models", "list", "--json", "--database-url", postgres_url, env=first.env)
        assert [v["version"] for v in json.loads(listed.stdout)["versions"] if v["active"]] == [
            version
        ]
    finally:
        second.stop()
        first.stop()
