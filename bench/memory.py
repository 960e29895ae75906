"""Peak memory (RSS) of the API process after serving traffic, and of the shell.

python -m bench.memory [--no-record]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.common import BUILT_IN_PLUGINS, bench_parser, record
from bench.shell_startup import one_start, peak_rss_mib

TICKETBOT = str(Path(sys.executable).with_name("ticketbot"))


def api_peak_rss(tmp: Path, tickets: int = 500) -> tuple[float, float]:
    """(RSS after start-up, peak RSS after ``tickets`` creations and listings) in MiB."""
    import socket

    url = f"sqlite:///{tmp / 'memory.db'}"
    key = subprocess.run(
        [TICKETBOT, "keys", "create", "--name", "bench", "--role", "admin", "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [TICKETBOT, "serve", "--port", str(port), "--database-url", url, "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        idle = peak_rss_mib(server.pid)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key}"
        for i in range(tickets):
            session.post(
                f"{base}/tickets",
                json={"title": f"Imprimante {i} en panne", "description": "bourrage papier"},
                timeout=10,
            )
            if i % 50 == 0:
                session.get(f"{base}/tickets", params={"limit": 100}, timeout=10)
        return idle, peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = bench_parser(__doc__)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        idle, peak = api_peak_rss(Path(tmp))
        _, _, shell = one_start(Path(tmp) / "shell-data")
    table = (
        "| process | peak RSS |\n| --- | --- |\n"
        f"| `ticketbot serve` (1 worker), after start-up | {idle:.0f} MiB |\n"
        f"| `ticketbot serve` (1 worker), after 500 creations and 10 listings | {peak:.0f} MiB |\n"
        f"| `ticketbot shell` with its embedded API, after the first answer | {shell:.0f} MiB |\n"
    )
    print(table)
    if not args.no_record:
        record(
            "Memory",
            "`python -m bench.memory` (VmHWM from /proc). Each extra `--workers` "
            "process costs about as much as one API process.\n\n" + table,
        )


if __name__ == "__main__":
    os.environ.setdefault("TICKETBOT_LOAD_PLUGINS", BUILT_IN_PLUGINS)
    main()
