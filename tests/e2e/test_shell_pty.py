"""The real ``ticketbot shell`` program in a pseudo-terminal (pexpect), embedded API and all."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect
import pytest

from tests import support
from tests.support import ticketbot_command

pytestmark = pytest.mark.e2e
PROMPT = "ticketbot>"  # prompt-toolkit draws the trailing space as a cursor move


def spawn_shell(data_dir: Path, cwd: Path, **env: str) -> pexpect.spawn:
    child = support.spawn_shell(data_dir, cwd, **env)
    child.expect_exact(PROMPT)
    return child


@contextmanager
def running_shell(data_dir: Path, cwd: Path, **env: str) -> Iterator[pexpect.spawn]:
    """A shell at its prompt; on leaving, it is told to quit (unless it already has) and must
    exit with status 0."""
    child = spawn_shell(data_dir, cwd, **env)
    try:
        yield child
        if child.isalive():
            child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_create_list_delete_in_french_and_shell_syntax_is_text(tmp_path: Path):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    (workdir / "x").write_text("must survive")
    with running_shell(tmp_path / "data", workdir) as child:
        child.sendline("nouveau ticket : mon imprimante fait un bruit bizarre")
        child.expect(r"Ticket n°(\d+) créé : « Mon imprimante fait un bruit bizarre »")
        ticket_id = child.match.group(1)
        child.expect_exact(PROMPT)

        child.sendline("liste les tickets")
        child.expect("Derniers tickets")
        child.expect("Mon imprimante fait un bruit bizarre")
        child.expect_exact(PROMPT)

        child.sendline(f"supprime le ticket {ticket_id}")
        child.expect(re.escape(f"Supprimer définitivement le ticket n°{ticket_id} ? (oui/non)"))
        child.sendline("oui")
        child.expect_exact(f"Ticket n°{ticket_id} supprimé.")
        child.expect_exact(PROMPT)

        child.sendline("nouveau ticket : la sauvegarde affiche | rm -rf x > y")
        child.expect(r"Ticket n°\d+ créé : « La sauvegarde affiche \| rm -rf x > y »")
        child.expect_exact(PROMPT)

        child.sendline("quitter")
        child.expect_exact("Au revoir !")
        child.expect(pexpect.EOF)
    assert (workdir / "x").read_text() == "must survive"
    assert not (workdir / "y").exists()
    assert (tmp_path / "data" / "tickets.db").exists()
    assert (tmp_path / "data" / "history").exists()


def test_english_and_ctrl_d(tmp_path: Path):
    with running_shell(tmp_path / "data", tmp_path) as child:
        child.sendline("show ticket 42")
        child.expect_exact("I can't find ticket #42")
        child.expect_exact(PROMPT)
        child.sendeof()
        child.expect(pexpect.EOF)
        said_at_exit = child.before or ""
    # Ctrl-D ends the session by itself (no "quit" needed), cleanly.
    assert child.exitstatus == 0
    assert "Traceback" not in said_at_exit


def test_remote_api_unreachable_is_one_sentence(tmp_path: Path):
    from tests.support import free_port

    with running_shell(
        tmp_path / "data", tmp_path, TICKETBOT_API_URL=f"http://127.0.0.1:{free_port()}"
    ) as child:
        child.sendline("liste les tickets")
        child.expect("ne répond pas pour le moment")
        child.expect_exact(PROMPT)
    assert "Traceback" not in (child.before or "")


def test_embedded_api_key_is_created_once_with_mode_600(tmp_path: Path):
    key_file = tmp_path / "data" / "api-key"
    keys = []
    for _ in range(2):
        with running_shell(tmp_path / "data", tmp_path) as child:
            child.sendline("liste les tickets")
            child.expect("Aucun ticket")
            child.expect_exact(PROMPT)
        assert key_file.stat().st_mode & 0o777 == 0o600
        keys.append(key_file.read_text().strip())
    assert keys[0] == keys[1] and keys[0].startswith("tb_")


def test_remote_api_refusing_the_key_stops_the_shell_at_start(tmp_path: Path):
    import subprocess

    from tests.support import ServerProcess

    with ServerProcess(f"sqlite:///{tmp_path / 'remote.db'}") as server:
        for key in (None, "tb_not-a-real-key"):
            env = {**os.environ, "TICKETBOT_API_URL": server.url}
            env.pop("TICKETBOT_API_KEY", None)
            if key:
                env["TICKETBOT_API_KEY"] = key
            result = subprocess.run(
                ticketbot_command("shell"),
                env=env,
                input="",
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 1, result.stderr
            assert "refuses the API key: set TICKETBOT_API_KEY" in result.stderr
            assert "Traceback" not in result.stderr
        requester = server.create_key("requester", "remote-user")
        with running_shell(
            tmp_path / "data2", tmp_path, TICKETBOT_API_URL=server.url, TICKETBOT_API_KEY=requester
        ) as child:
            child.sendline("nouveau ticket : la clim fuit dans la salle 12")
            child.expect(r"Ticket n°\d+ créé")
            child.expect_exact(PROMPT)
        assert server.session().get(f"{server.url}/tickets", timeout=10).json()["total"] == 1


def test_a_broken_plugin_is_named_and_the_shell_still_starts(tmp_path: Path):
    from tests.support import install_fake_plugin

    site = tmp_path / "site"
    install_fake_plugin(
        site,
        "fake_broken_pty",
        "raise RuntimeError('boom at import')\n",
        distribution="ticketbot-broken",
    )
    pythonpath = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    with running_shell(tmp_path / "data", tmp_path, PYTHONPATH=pythonpath) as child:
        assert "fake_broken_pty" in child.before and "ticketbot-broken" in child.before
        assert "boom at import" in child.before
        child.sendline("liste les tickets")
        child.expect("Aucun ticket")
        child.expect_exact(PROMPT)


def test_two_plugins_claiming_one_intent_stop_the_shell_with_both_names(tmp_path: Path):
    import subprocess

    from tests.support import FAKE_INTENT_PLUGIN, install_fake_plugin, ticketbot_command

    site = tmp_path / "site"
    install_fake_plugin(site, "fake_clash_cli", FAKE_INTENT_PLUGIN.format(name="delete_ticket"))
    result = subprocess.run(
        ticketbot_command("shell"),
        env={**os.environ, "PYTHONPATH": str(site), "TICKETBOT_DATA_DIR": str(tmp_path / "d")},
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "'delete_ticket'" in result.stderr and "'fake_clash_cli'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_refused_department_model_is_explained_and_the_shell_keeps_running(tmp_path: Path):
    from tests.e2e.test_serve import tampered_copy

    model = tampered_copy("department", tmp_path)
    with running_shell(tmp_path / "data", tmp_path, TICKETBOT_DEPARTMENT_MODEL=str(model)) as child:
        child.sendline("liste les tickets")
        child.expect("L'API intégrée n'a pas pu démarrer")
        child.expect("SHA-256")
        child.expect_exact(PROMPT)
        explained = child.before or ""
        child.sendline("aide")
        child.expect("Je comprends")
        assert child.isalive()  # the shell kept running after the refusal
    assert "Traceback" not in explained


def test_comment_close_reopen_and_my_tickets_in_a_real_terminal(tmp_path: Path):
    with running_shell(tmp_path / "data", tmp_path) as child:
        child.sendline("nouveau ticket : le scanner du 2e ne marche plus")
        child.expect(r"Ticket n°(\d+) créé")
        number = child.match.group(1)
        child.expect_exact(PROMPT)

        child.sendline(f"commenter le ticket {number}")
        child.expect_exact(f"Que voulez-vous ajouter au ticket n°{number}")
        child.sendline("il affiche une erreur E42")
        child.expect_exact(
            f"Commentaire ajouté au ticket n°{number} : « il affiche une erreur E42 »"
        )
        child.expect_exact(PROMPT)

        child.sendline(f"c'est réglé, tu peux fermer le {number}")
        child.expect_exact(f"Fermer le ticket n°{number}")
        child.sendline("oui vas-y")
        child.expect_exact(f"Ticket n°{number} fermé.")
        child.expect_exact(PROMPT)

        child.sendline("mes tickets")
        child.expect_exact("Vos tickets")
        child.expect_exact("fermé")
        child.expect_exact(PROMPT)

        child.sendline(f"le problème est revenu, rouvre le ticket {number}")
        child.expect_exact(f"Rouvrir le ticket n°{number}")
        child.sendline("oui")
        child.expect_exact(f"Ticket n°{number} rouvert.")
        child.expect_exact(PROMPT)

        child.sendline(f"où en est le ticket {number} ?")
        child.expect_exact("ouvert")
        child.expect(r"il affiche une erreur E\d+")
        assert child.after == "il affiche une erreur E42"  # the last public comment
        child.expect_exact(PROMPT)
