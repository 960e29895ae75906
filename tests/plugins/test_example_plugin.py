"""The example third-party package (plugins/ticketbot-stats), installed by `make test`:
listed, understood in French and English with no training step, answered by the shell, and
gone when blocked or uninstalled."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pexpect
import pytest

from tests.support import REPO, ticketbot_command

pytestmark = pytest.mark.e2e
QUESTIONS = {"fr": "combien de tickets par service ?", "en": "how many tickets per department?"}


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """Environment with every installed plugin enabled and a data directory of its own."""
    environment = {k: v for k, v in os.environ.items() if k != "TICKETBOT_LOAD_PLUGINS"}
    environment["TICKETBOT_DATA_DIR"] = str(tmp_path_factory.mktemp("stats-data"))
    environment["PROMPT_TOOLKIT_NO_CPR"] = "1"
    return environment


def ticketbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ticketbot_command(*args), env=env, capture_output=True, text=True, timeout=120
    )


def parse(env: dict[str, str], *texts: str) -> list[dict]:
    result = ticketbot(env, "parse", *texts)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_listed_by_ticketbot_plugins(env):
    result = ticketbot(env, "plugins", "--json")
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    stats = plugins["ticketbot_stats"]
    assert stats["source"] == "ticketbot-stats" and stats["version"] == "0.1.0"
    assert stats["intents"] == ["ticket_stats"] and stats["hooks"] == ["register_intents"]
    assert "ticketbot_stats 0.1.0 (ticketbot-stats)" in ticketbot(env, "plugins").stdout


def test_parsed_in_french_and_english_without_a_training_step(env):
    result = ticketbot(env, "parse", QUESTIONS["fr"], QUESTIONS["en"], "combien de tickets RH ?")
    assert result.returncode == 0, result.stderr
    assert "+ticket_stats" in result.stderr  # retrained on its own, said in one line
    parsed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["intent"] for p in parsed] == ["ticket_stats"] * 3
    assert [p["language"] for p in parsed] == ["fr", "en", "fr"]
    assert parsed[2]["entities"] == {"department": "HR"}
    # The built-in intents are still understood by the retrained model.
    assert [p["intent"] for p in parse(env, "supprime le ticket 4", "show ticket 42")] == [
        "delete_ticket",
        "read_ticket",
    ]
    assert "retrained" not in ticketbot(env, "parse", "x").stderr  # trained once, then reused


def test_shell_answers_it_against_a_real_api(env, tmp_path):
    command, *args = ticketbot_command("shell")
    child = pexpect.spawn(
        command,
        args,
        env=env,
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )
    try:
        child.expect_exact("ticketbot>")
        child.sendline("nouveau ticket : le VPN coupe toutes les dix minutes")
        child.expect(r"Ticket n°\d+ créé")
        child.expect_exact("ticketbot>")
        child.sendline(QUESTIONS["fr"])
        child.expect_exact("Tickets par service")
        child.expect(r"(\w+)\s*│\s*1\s*│")
        assert child.match.group(1) == "IT"  # the VPN ticket, counted in its department
        child.expect(r"Total\s*│\s*1")
        child.expect_exact("ticketbot>")
        child.sendline(QUESTIONS["en"])
        child.expect_exact("Tickets per department")
        child.expect_exact("ticketbot>")
        child.sendline("aide")
        child.expect_exact("compter les tickets par service")
        child.expect_exact("ticketbot>")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_blocked_by_load_plugins_it_is_no_longer_offered(env):
    blocked = {**env, "TICKETBOT_LOAD_PLUGINS": "-ticketbot_stats"}
    assert "ticketbot_stats" not in ticketbot(blocked, "plugins").stdout
    parsed = parse(blocked, QUESTIONS["fr"], QUESTIONS["en"])
    assert all(p["intent"] != "ticket_stats" for p in parsed)
    assert all(r["intent"] != "ticket_stats" for p in parsed for r in p["ranking"])


def pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", *args, "--quiet"],
        check=True,
        timeout=300,
        capture_output=True,
    )


def test_uninstalled_it_is_no_longer_offered(env):
    pip("uninstall", "--yes", "ticketbot-stats")
    try:
        assert "ticketbot_stats" not in ticketbot(env, "plugins").stdout
        parsed = parse(env, QUESTIONS["fr"], QUESTIONS["en"])
        assert all(r["intent"] != "ticket_stats" for p in parsed for r in p["ranking"])
    finally:
        pip("install", "--no-deps", "-e", str(REPO / "plugins" / "ticketbot-stats"))
    assert "ticketbot_stats" in ticketbot(env, "plugins").stdout
