"""The plugin documentation stays true: every hook documented with its exact signature, and
the tutorial's code is the example package's code."""

from __future__ import annotations

import inspect
import re

from tests.support import REPO
from ticketbot import hookspecs

HOOKS_DOC = REPO / "docs" / "plugin-hooks.md"
TUTORIAL = REPO / "docs" / "writing-plugins.md"
EXAMPLE = REPO / "plugins" / "ticketbot-stats"


def hook_specs() -> dict[str, object]:
    return {name: f for name, f in vars(hookspecs).items() if hasattr(f, "ticketbot_spec")}


def test_every_hook_is_documented_with_its_exact_signature():
    text = HOOKS_DOC.read_text(encoding="utf-8")
    assert hook_specs(), "no hooks found"
    for name, function in hook_specs().items():
        # Annotations are strings (from __future__ import annotations): show them unquoted.
        signature = f"def {name}{inspect.signature(function)}".replace("'", "")
        assert f"## `{name}(" in text, f"{name} has no section in {HOOKS_DOC.name}"
        assert signature in text, f"{HOOKS_DOC.name} lacks the exact signature: {signature}"
        firstresult = function.ticketbot_spec["firstresult"]
        section = text.split(f"## `{name}(", 1)[1].split("\n## ", 1)[0]
        assert ("firstresult`: stops at the first" in section) == firstresult, name


def test_every_hook_spec_has_a_docstring_saying_firstresult_or_not():
    for name, function in hook_specs().items():
        doc = inspect.getdoc(function) or ""
        assert ":param" in doc and "Return value" in doc, name
        assert ("firstresult" in doc) == function.ticketbot_spec["firstresult"] or "not" in doc, (
            name
        )


def test_tutorial_code_is_the_example_package_code():
    text = TUTORIAL.read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:python|ini|toml)\n# (\S+)\n(.*?)```", text, flags=re.S)
    files = {name for name, _ in blocks}
    assert files == {
        "setup.cfg",
        "pyproject.toml",
        "ticketbot_stats.py",
        "tests/test_ticketbot_stats.py",
    }
    for name, code in blocks:
        assert code == (EXAMPLE / name).read_text(encoding="utf-8"), (
            f"{name} differs from the tutorial"
        )
