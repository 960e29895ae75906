"""Shared helpers of the benchmarks: data locations, machine description, BENCHMARKS.md."""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TICKETBOT_SHARED_DATA", REPO.parent / "shared" / "data"))
IT_TICKETS = SHARED_DATA / "it_tickets" / "train.csv"
WIKIT_INTENTS = SHARED_DATA / "wikit_fr_intents" / "train.csv"
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
BUILT_IN_PLUGINS = (
    "create_ticket,read_ticket,delete_ticket,comment_ticket,close_ticket,reopen_ticket,"
    "entities,fallback,small_talk"
)
"""TICKETBOT_LOAD_PLUGINS value that loads only the plugins shipped with ticketbot."""


def bench_parser(doc: str) -> argparse.ArgumentParser:
    """A benchmark's command line: described by the first line of its docstring, with
    ``--no-record`` (print the figures without updating BENCHMARKS.md)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--no-record", action="store_true", help="print only, do not update BENCHMARKS.md"
    )
    return parser


def percentile(values: list[float], q: float) -> float:
    """The value at quantile ``q`` (0-1) of ``values`` (nearest rank, no interpolation)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def require(path: Path) -> Path:
    """The data file, or exit with a message saying where it is expected."""
    if not path.is_file():
        raise SystemExit(
            f"benchmark data {path} not found (set TICKETBOT_SHARED_DATA to the folder holding it)"
        )
    return path


def machine() -> str:
    """One line describing this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {python}, {platform.system()}"


def today() -> str:
    """Today's date (UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def git_revision() -> str:
    """The commit being measured (with -dirty if the tree has changes)."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def record(section: str, body: str) -> None:
    """Replace (or add) ``## section`` in BENCHMARKS.md with ``body`` plus machine and date."""
    header = f"## {section}"
    when = f"_Measured {today()} on {machine()}, commit {git_revision()}._"
    stamped = f"{header}\n\n{when}\n\n{body.strip()}\n"
    text = (
        BENCHMARKS_MD.read_text(encoding="utf-8")
        if BENCHMARKS_MD.exists()
        else (
            "# Benchmarks\n\nFigures measured with `make bench` "
            "(each section says how to rerun it alone).\n"
        )
    )
    pattern = re.compile(rf"^{re.escape(header)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: stamped + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + stamped
    BENCHMARKS_MD.write_text(text.rstrip() + "\n", encoding="utf-8")
    print(f"recorded '{section}' in {BENCHMARKS_MD.name}")
