"""Repository-level checks: the promises the README, CI and docs make about the repository itself.

No database, no network: file reads and one tiny subprocess, well under a second.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _apps() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "kestrel").glob("*/apps.py"))


def test_readme_begins_with_make_run_and_make_test():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# "), "README.md starts with a short title line"
    body = [line for line in lines[1:] if line.strip()]
    assert re.fullmatch(r"```\w*", body[0]), "the title is followed by a code block"
    closing = body.index("```", 1)
    commands = body[1:closing]
    assert [c.split("#")[0].strip() for c in commands] == ["make run", "make test"]
    for command in commands:
        assert "#" in command and command.split("#", 1)[1].strip(), f"one-line comment missing: {command!r}"


def test_ci_runs_make_test_strictly():
    script = ROOT / ".ci" / "run"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") or text.startswith("#!/bin/bash\n")
    assert re.search(r"^set -euo pipefail$", text, re.MULTILINE)
    assert re.search(r"^\s*(\w+=\S+\s+)*make test\s*$", text, re.MULTILINE), ".ci/run must call `make test`"
    assert "KESTREL_TEST_PG" in text, "CI runs the suite on PostgreSQL too"
    assert script.stat().st_mode & 0o111, ".ci/run is executable"


def test_architecture_doc_mentions_every_app():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [app for app in _apps() if f"`{app}`" not in doc]
    assert _apps(), "kestrel/ has apps"
    assert not missing, f"docs/architecture.md does not mention these apps: {missing}"


def test_adrs_are_numbered_and_titled():
    adrs = sorted((ROOT / "docs" / "adr").glob("*.md"))
    assert adrs
    for number, adr in enumerate(adrs, start=1):
        assert re.fullmatch(rf"{number:04d}-[a-z0-9-]+\.md", adr.name), (
            f"{adr.name}: NNNN-words.md in sequence"
        )
        title = adr.read_text(encoding="utf-8").splitlines()[0]
        assert title.startswith(f"# ADR {number:04d}: "), f"{adr.name}: first line '# ADR {number:04d}: …'"


def test_makefile_has_the_documented_targets_and_swallows_no_failure():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("venv", "assets", "run", "test", "lint", "fmt", "bench", "clean"):
        assert re.search(rf"^{target}:", text, re.MULTILINE), f"make {target} is missing"
    recipe_lines = [line for line in text.splitlines() if line.startswith("\t")]
    assert not [line for line in recipe_lines if line.startswith("\t-")], "no recipe line may ignore errors"
    assert "|| true" not in text and "|| :" not in text, "nothing may swallow a failing command"


def test_find_python_explains_a_bad_interpreter():
    result = subprocess.run(
        [str(ROOT / "scripts" / "find-python")],
        env={"PATH": "/usr/bin:/bin", "PYTHON": "/nonexistent/python3"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "not a Python >= 3.12" in result.stderr
