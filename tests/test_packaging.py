"""Packaging: one import namespace, and the installed files are never overwritten."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import REPO, ticketbot_command
from ticketbot.paths import shipped_model


@pytest.mark.e2e
def test_the_wheel_installs_one_top_level_package_with_its_data(tmp_path: Path):
    had_build = (REPO / "build").exists()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=600,
        capture_output=True,
    )
    if not had_build:  # setuptools builds in the source tree
        import shutil

        shutil.rmtree(REPO / "build", ignore_errors=True)
    (wheel,) = tmp_path.glob("ticketbot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names if not name.endswith(".dist-info/")}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"ticketbot"}
    for expected in (
        "ticketbot/api/app.py",
        "ticketbot/api/data/department_train.csv",
        "ticketbot/plugins/create_ticket.py",
        "ticketbot/plugins/data/create_ticket.csv",
        "ticketbot/nlu/data/out_of_scope.csv",
        "ticketbot/trained_models/department.pkl",
        "ticketbot/trained_models/intent.json",
    ):
        assert expected in names, expected
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "no LICENSE"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "create_ticket = ticketbot.plugins.create_ticket" in text


def test_train_department_without_out_writes_to_the_data_directory(tmp_path: Path):
    shipped = shipped_model("department")
    before = hashlib.sha256(shipped.read_bytes()).hexdigest()
    data = tmp_path / "tickets.csv"
    data.write_text(
        "text,label\n"
        + "".join(f"imprimante {i} en panne,IT\npaie {i} fausse,HR\n" for i in range(6))
    )
    result = subprocess.run(
        ticketbot_command("train", "department", "--data", str(data)),
        env={**os.environ, "TICKETBOT_DATA_DIR": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "home" / "models" / "department.pkl").exists()
    assert "TICKETBOT_DEPARTMENT_MODEL=" in result.stdout
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == before


def test_scikit_learn_is_a_range_not_a_pin():
    import configparser

    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    requirements = config["options"]["install_requires"]
    line = next(r for r in requirements.splitlines() if r.strip().startswith("scikit-learn"))
    assert "==" not in line and ">=" in line and "<" in line.split(">=", 1)[1]
