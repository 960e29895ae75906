"""Requests while every API process switches to a newly activated department model.

For SQLite, and for PostgreSQL when reachable: two `ticketbot serve` processes on one fresh
database, a version trained with `ticketbot train department --from-database` (after a few
agent corrections), then 8 clients (4 per server) posting tickets for the whole run while
the version is activated: once with `ticketbot models activate`, once by writing the same
activation row from the bench (the servers' side of the switch alone, without the command's
own CPU on the same cores). Reported per database and way: requests, errors,
the seconds until each server answered with the new version, and latency (p50 / p99 / max)
in three windows: the steady state before the activation, the switch (from the activation
until both servers switched, plus one second), and after.

    python -m bench.model_switch [--no-record] [--postgres-url URL]
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.api_throughput import (
    DEFAULT_POSTGRES,
    TICKETBOT,
    TICKETS,
    Server,
    create_key,
    free_port,
    postgres_unreachable,
    scratch_database,
)
from bench.common import REPO, bench_parser, percentile, record

CLIENTS_PER_SERVER = 4
BEFORE, AFTER = 4.0, 3.0  # seconds of load before the activation and after the switch
POLL_SECONDS = "1"


def _ticketbot(*args: str) -> str:
    result = subprocess.run(
        [str(TICKETBOT), *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"ticketbot {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _request(url: str, key: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"{}")


def _activate_directly(database_url: str, version: str) -> None:
    """The activation row the command writes, written by this process (no command start-up
    or held-out measurement on the machine's cores during the window)."""
    from ticketbot.api.db import close_database, connect_database
    from ticketbot.api.models import bind_models
    from ticketbot.api.registry import Registry
    from ticketbot.api.settings import Settings

    models = bind_models(connect_database(Settings(database_url=database_url)))
    try:
        with models.database.connection_context():
            Registry(models).activate(version, "bench")
    finally:
        close_database(models.database)


def measure(database_url: str, tmp: Path, direct: bool) -> dict:
    import requests

    key = create_key(database_url)
    agent = _ticketbot(
        "keys", "create", "--name", "agent", "--role", "agent", "--database-url", database_url
    ).strip()
    servers, urls = [], []
    for index in range(2):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [str(TICKETBOT), "serve", "--port", str(port), "--database-url", database_url]
        server = Server(command + ["--log-level", "warning"], tmp / f"server{index}.log")
        server.start(url)
        servers.append(server)
        urls.append(url)
    try:
        for title in ("Le lecteur Saturne refuse les badges", "Saturne reader is broken"):
            ticket = _request(f"{urls[0]}/tickets", key, "POST", {"title": title})
            _request(f"{urls[0]}/tickets/{ticket['id']}", agent, "PATCH", {"department": "Legal"})
        manifest = json.loads(
            _ticketbot(
                "train",
                "department",
                "--from-database",
                "--database-url",
                database_url,
                "--json",
            )
        )
        version = manifest["version"]
        samples: list[tuple[float, float, int]] = []  # (start, seconds, status)
        stop = threading.Event()

        def client(url: str, index: int) -> None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {key}"
            n = index
            while not stop.is_set():
                title, description = TICKETS[n % len(TICKETS)]
                n += 1
                started = time.perf_counter()
                try:
                    status = session.post(
                        f"{url}/tickets",
                        json={"title": title, "description": description},
                        timeout=30,
                    ).status_code
                except requests.RequestException:
                    status = 0
                samples.append((started, time.perf_counter() - started, status))

        threads = [
            threading.Thread(target=client, args=(url, i))
            for url in urls
            for i in range(CLIENTS_PER_SERVER)
        ]
        for thread in threads:
            thread.start()
        time.sleep(BEFORE)
        activated = time.perf_counter()
        if direct:
            _activate_directly(database_url, version)
        else:
            _ticketbot("models", "activate", version, "--database-url", database_url)
        switched: dict[str, float] = {}
        while len(switched) < len(urls) and time.perf_counter() - activated < 30:
            for url in urls:
                if (
                    url not in switched
                    and _request(f"{url}/health", key)["model_version"] == version
                ):
                    switched[url] = time.perf_counter() - activated
            time.sleep(0.05)
        switch_end = activated + max(switched.values(), default=30.0) + 1.0
        time.sleep(max(0.0, switch_end + AFTER - time.perf_counter()))
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for server in servers:
            server.stop()
    windows = {
        "before": [s for s in samples if s[0] < activated],
        "switch": [s for s in samples if activated <= s[0] < switch_end],
        "after": [s for s in samples if s[0] >= switch_end],
    }
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if s[2] != 201),
        "switched": sorted(switched.values()),
        "windows": {
            name: {
                "requests": len(rows),
                "p50": percentile([s[1] for s in rows], 0.5) * 1000 if rows else float("nan"),
                "p99": percentile([s[1] for s in rows], 0.99) * 1000 if rows else float("nan"),
                "max": max(s[1] for s in rows) * 1000 if rows else float("nan"),
            }
            for name, rows in windows.items()
        },
    }


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    # Read by every server and command started below.
    os.environ["TICKETBOT_MODEL_POLL_SECONDS"] = POLL_SECONDS
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        kinds = ["sqlite"]
        why_not = postgres_unreachable(args.postgres_url)
        if why_not is None:
            kinds.append("postgresql")
        for kind in kinds:
            for how, direct in (("the command", False), ("a row written directly", True)):
                name = "switch-direct" if direct else "switch-command"
                with scratch_database(kind, name, tmp, args.postgres_url) as url:
                    name = f"{kind}, activated by {how}"
                    results[name] = measure(url, tmp, direct)
                    print(name, json.dumps(results[name]), flush=True)
    lines = [
        "| database | requests | errors | switched after (s, each server) | window | requests "
        "| p50 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, result in results.items():
        switched = ", ".join(f"{s:.1f}" for s in result["switched"])
        for index, (name, window) in enumerate(result["windows"].items()):
            head = (
                f"| {kind} | {result['requests']} | {result['errors']} | {switched} "
                if index == 0
                else "| | | | "
            )
            lines.append(
                f"{head}| {name} | {window['requests']} | {window['p50']:.1f} "
                f"| {window['p99']:.1f} | {window['max']:.1f} |"
            )
    note = "" if why_not is None else f"\n\nPostgreSQL not measured: {why_not}."
    body = "\n".join(lines) + note
    print(body)
    if not args.no_record:
        record(
            "Model switch under load",
            "`python -m bench.model_switch`: two `ticketbot serve` processes on one database, "
            f"{2 * CLIENTS_PER_SERVER} clients posting tickets, an activation in the middle "
            f"(TICKETBOT_MODEL_POLL_SECONDS={POLL_SECONDS}), measured twice per database. The "
            "switch window "
            "runs from the activation (`ticketbot models activate`, or the same activation row "
            "written by the bench itself) until both servers answer with "
            "the new version, plus one second. The servers load a version ahead when it is "
            "stored, and at activation only check its hash and swap it in; the activate "
            "command itself (about 0.5 s of CPU: start-up, both models measured on the "
            "held-out slice) runs on the same 2 cores as the servers and the clients during "
            "that window. On SQLite the p99 of every window comes from writers waiting for "
            "the database's one write lock across the two processes.\n\n" + body,
        )


if __name__ == "__main__":
    main()
