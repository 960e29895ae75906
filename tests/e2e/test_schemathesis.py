"""Schemathesis against the live OpenAPI schema of a real server: no 5xx, no response that
breaks its own schema, on every endpoint, with a valid key. Bounded: 30 examples per
operation and a fixed seed, so the run takes seconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ServerProcess

pytestmark = pytest.mark.e2e


def test_schemathesis_finds_no_failure(database_url, tmp_path: Path):
    with ServerProcess(database_url) as server:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {server.key}",
                "--checks",
                "all",
                "--max-examples",
                "30",
                "--seed",
                "1",
                "--no-color",
                "--generation-database",
                "none",
                "--report-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
