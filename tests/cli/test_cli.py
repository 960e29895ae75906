"""The ``ticketbot`` command line: help, classify, train and eval."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO, ticketbot_command
from ticketbot.cli import main

COMMANDS = ["shell", "serve", "train", "classify", "parse", "eval", "plugins", "models", "keys"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ticketbot_command(*args), input=stdin, capture_output=True, text=True, timeout=120
    )


def test_help_lists_subcommands():
    result = run("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize(
    "args",
    [[c] for c in COMMANDS]
    + [
        ["train", "department"],
        ["train", "intent"],
        ["eval", "department"],
        ["eval", "intent"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
    ],
)
def test_each_subcommand_has_help(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--help"])
    assert exit_info.value.code == 0
    assert "usage: ticketbot" in capsys.readouterr().out


def test_classify_arguments_print_json_lines():
    result = run("classify", "La climatisation fuit dans la salle B", "Please review this NDA")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["department"] for line in lines] == ["Facilities", "Legal"]
    assert set(lines[0]) == {
        "text",
        "department",
        "confidence",
        "ranking",
        "needs_review",
        "model_version",
    }
    assert lines[0]["text"] == "La climatisation fuit dans la salle B"
    assert len(lines[0]["ranking"]) == 3


def test_classify_reads_stdin_lines(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("VPN en panne\n\n  \nexpense report refused\n"))
    assert main(["classify"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["VPN en panne", "expense report refused"]
    assert [line["department"] for line in lines] == ["IT", "Finance"]


def write_csv(path: Path, rows: list[tuple[str, str]], header=("text", "label")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


CUSTOM_ROWS = [
    (f"{word} {n}", label)
    for label, words in {
        "Network": ["switch down", "router reboot", "wifi lost", "cable cut", "dns failing"],
        "Desktop": ["mouse broken", "keyboard missing", "screen dead", "laptop slow", "dock issue"],
        "Access": ["password reset", "account locked", "badge denied", "mfa lost", "sso error"],
    }.items()
    for n, word in enumerate(words * 2)
]


def test_train_on_any_csv_then_classify_and_eval(tmp_path: Path, capsys):
    data = write_csv(tmp_path / "history.csv", list(CUSTOM_ROWS), ("body", "queue"))
    out = tmp_path / "custom.pkl"
    code = main(
        [
            "train",
            "department",
            "--data",
            str(data),
            "--text-column",
            "body",
            "--label-column",
            "queue",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "cross-validation: accuracy" in printed
    manifest = json.loads(out.with_suffix(".json").read_text())
    assert manifest["labels"] == ["Access", "Desktop", "Network"]
    assert manifest["data"]["rows"] == len(CUSTOM_ROWS)
    assert manifest["cv"]["folds"] == 5

    assert main(["classify", "--model", str(out), "router reboot needed"]) == 0
    assert json.loads(capsys.readouterr().out)["department"] == "Network"

    assert (
        main(
            [
                "eval",
                "department",
                "--data",
                str(data),
                "--text-column",
                "body",
                "--label-column",
                "queue",
                "--model",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] > 0.9
    assert report["confusion"]["labels"] == ["Access", "Desktop", "Network"]
    assert set(report["per_class"]["Access"]) == {"precision", "recall", "f1", "support"}


def test_eval_prints_tables_and_plot(tmp_path: Path, capsys):
    data = write_csv(
        tmp_path / "eval.csv",
        [("VPN ne marche plus", "IT"), ("note de frais", "Finance"), ("contrat NDA", "Legal")],
    )
    plot = tmp_path / "confusion.png"
    assert main(["eval", "department", "--data", str(data), "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert "macro-F1" in printed and "confusion matrix" in printed
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "department", "--data", "missing.csv"], "no such file"),
        (["eval", "department", "--data", "missing.csv"], "no such file"),
        (["classify", "--model", "missing.pkl", "x"], "not found"),
    ],
)
def test_bad_paths_give_one_clear_line(args, message, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_columns_are_named(tmp_path: Path):
    data = write_csv(tmp_path / "d.csv", [("a", "b")], ("body", "queue"))
    result = run("train", "department", "--data", str(data), "--out", str(tmp_path / "m.pkl"))
    assert result.returncode == 1
    assert "no column 'text', 'label'" in result.stderr and "--text-column" in result.stderr


def test_models_shows_both_models_in_use():
    result = run("models", "--json")
    assert result.returncode == 0
    department, intent = json.loads(result.stdout)["models"]
    assert department["kind"] == "department" and department["version"].startswith("department-")
    assert department["cv"]["macro_f1"] > 0
    assert intent["kind"] == "intent" and intent["path"].endswith("trained_models/intent.pkl")
    assert 0 < intent["threshold"] < 1 and intent["cv"]["in_scope_accuracy"] > 0
    assert "fallback threshold" in run("models").stdout


def test_eval_intent_on_the_held_out_set(tmp_path: Path):
    result = run(
        "eval", "intent", "--data", str(REPO / "tests" / "data" / "intent_eval.csv"), "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["in_scope_accuracy"] >= 0.95 and report["out_of_scope_fallback"] >= 0.85
    assert "out_of_scope" in report["per_class"]


@pytest.mark.parametrize("command", ["classify", "parse"])
def test_a_blank_text_says_what_to_do(command):
    result = run(command, "  ")
    assert result.returncode == 1
    assert f"nothing to {command}" in result.stderr and "Traceback" not in result.stderr


def test_training_says_which_rows_it_left_out_and_reads_columns_in_any_case(tmp_path):
    data = tmp_path / "tickets.csv"
    rows = "".join(f"imprimante {i} en panne,IT\npaie {i} fausse,HR\n" for i in range(5))
    data.write_text("TEXT, Label\n" + rows + "sans service,\nvpn,IT,en trop\n")
    result = subprocess.run(
        ticketbot_command(
            "train", "department", "--data", str(data), "--out", str(tmp_path / "m.pkl")
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "2 rows left out" in result.stderr
    assert "line 12: no label" in result.stderr and "line 13: 3 fields" in result.stderr


def test_intent_labels_from_a_csv_follow_the_naming_rule(tmp_path):
    data = tmp_path / "extra.csv"
    data.write_text("text,label\n" + "".join(f"phrase {i},Bad Label\n" for i in range(12)))
    result = run("train", "intent", "--data", str(data), "--out", str(tmp_path / "i.pkl"))
    assert (
        result.returncode == 1 and "snake_case" in result.stderr and "'Bad Label'" in result.stderr
    )


def test_eval_department_uses_the_held_out_tickets_by_default():
    result = run("eval", "department", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] >= 200


def test_plot_without_matplotlib_fails_before_any_work(monkeypatch):
    import argparse
    import importlib.util

    from ticketbot.cli import CommandError, _require_plotting

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CommandError, match=r"pip install 'ticketbot\[plot\]'"):
        _require_plotting(argparse.Namespace(plot=Path("m.png")))


@pytest.mark.parametrize("action", ["list", "revoke"])
def test_key_commands_describe_themselves(action):
    result = run("keys", action, "--help")
    assert result.returncode == 0 and "\n\n" in result.stdout.split("options:")[0]


def test_a_refused_model_names_the_command_that_rebuilds_that_file(tmp_path):
    from ticketbot.ml.store import retrain_command
    from ticketbot.paths import shipped_model

    other = tmp_path / "mine.pkl"
    assert retrain_command("department", other) == (
        f"ticketbot train department --data YOUR_TICKETS.csv --out {other}"
    )
    assert retrain_command("intent", other) == f"ticketbot train intent --out {other}"
    assert retrain_command("department", shipped_model("department")) == "make models"
