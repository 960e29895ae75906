"""Shell start-up through a pseudo-terminal: launch -> prompt, launch -> first answer.

The first answer needs everything: the embedded API (FastAPI app, department model, SQLite
database, API key) and the intent model. Measured on a first start (empty data directory:
database and key created) and on later starts, with the built-in plugins. Also shows where
the time goes (`python -X importtime`) and the shell's peak memory (embedded API included).

    python -m bench.shell_startup [--runs 10] [--no-record]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import BUILT_IN_PLUGINS, REPO, bench_parser, record

TICKETBOT = str(Path(sys.executable).with_name("ticketbot"))


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_start(data_dir: Path) -> tuple[float, float, float]:
    """(seconds to the prompt, seconds to the first answer, peak RSS MiB) of one start."""
    import pexpect

    env = {
        **os.environ,
        "TICKETBOT_DATA_DIR": str(data_dir),
        "TICKETBOT_LOAD_PLUGINS": BUILT_IN_PLUGINS,
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    started = time.perf_counter()
    child = pexpect.spawn(
        TICKETBOT, ["shell"], env=env, encoding="utf-8", timeout=60, dimensions=(50, 200)
    )
    try:
        child.expect_exact("ticketbot>")
        prompt = time.perf_counter() - started
        child.sendline("liste les tickets")
        child.expect(["Aucun ticket", "Derniers tickets"])
        answer = time.perf_counter() - started
        rss = peak_rss_mib(child.pid)
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    return prompt, answer, rss


def import_profile(module: str, top: int = 8) -> list[tuple[str, float]]:
    """The ``top`` heaviest imports (cumulative ms) of ``module`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                rows.append((name.rstrip(), int(cumulative) / 1000))
    # importtime indents the module name by 1 + 2 spaces per level: direct imports have 3.
    direct = [(name.strip(), ms) for name, ms in rows if len(name) - len(name.lstrip()) == 3]
    total = next((ms for name, ms in rows if name.strip() == module), 0.0)
    return [(module, total)] + sorted(direct, key=lambda r: -r[1])[:top]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--runs", type=int, default=10, help="later starts to time (default: 10)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        first = one_start(data)
        later = [one_start(data) for _ in range(args.runs)]
    prompts = sorted(r[0] for r in later)
    answers = sorted(r[1] for r in later)
    rss = max(r[2] for r in [first, *later])
    table = (
        "| start | launch -> prompt | launch -> first answer |\n| --- | --- | --- |\n"
        f"| first start (database and key created) | {first[0]:.2f} s | {first[1]:.2f} s |\n"
        f"| later starts, median of {args.runs} | {statistics.median(prompts):.2f} s "
        f"| {statistics.median(answers):.2f} s |\n"
        f"| later starts, slowest | {prompts[-1]:.2f} s | {answers[-1]:.2f} s |\n"
    )
    shell_imports = import_profile("ticketbot.shell")
    api_imports = import_profile("api.app")
    profile = "| import (cumulative) | ms |\n| --- | --- |\n" + "\n".join(
        f"| `{name}` | {ms:.0f} |" for name, ms in shell_imports + api_imports
    )
    print(table)
    print(profile)
    print(f"peak RSS of the shell (embedded API included): {rss:.0f} MiB")
    if not args.no_record:
        record(
            "Shell start-up",
            "`python -m bench.shell_startup`: the real `ticketbot shell` in a pseudo-terminal "
            "(pexpect), built-in plugins, first line `liste les tickets` sent as soon as the "
            "prompt shows. Goals: prompt under 0.6 s, first answer under 1.5 s.\n\n"
            f"{table}\nPeak RSS of the shell process, embedded API included: {rss:.0f} MiB.\n\n"
            "Where the time goes: before the prompt the shell imports only the console "
            "(`ticketbot.shell`: cmd2, prompt-toolkit, rich); the API "
            "(`ticketbot.api.app`: FastAPI, pydantic, numpy) and the intent model load in "
            "background threads started once the "
            "console is built, and the first line waits for them. The saved models are compiled "
            "numpy arrays, so scikit-learn (about 1 s to import) is never loaded.\n\n" + profile,
        )


if __name__ == "__main__":
    main()
