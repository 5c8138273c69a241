"""Every command has help text and a docs page; the README's commands are the real ones."""

from __future__ import annotations

import re
from typing import Any

import typer

from acctsec.cli import app
from conftest import ROOT

DOCS = ROOT / "docs" / "commands"


def commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    found = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        found.append((name, command))
        for sub, subcommand in getattr(command, "commands", {}).items():
            found.append((f"{name} {sub}", subcommand))
    return found


def test_every_command_has_help_text() -> None:
    missing = [name for name, command in commands() if not (command.help or "").strip()]
    assert not missing, f"commands without help text: {missing}"


def test_every_command_has_a_docs_page() -> None:
    missing = []
    for name, _ in commands():
        top = name.split()[0]
        page = DOCS / f"{top}.md"
        if not page.exists() or name.split()[-1] not in page.read_text(encoding="utf-8"):
            missing.append(name)
    assert not missing, f"commands without a page in docs/commands: {missing}"


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, flags=re.DOTALL)
    assert len(blocks) >= 2
    first, second = blocks[0].strip(), blocks[1].strip()
    assert "acctsec investigate" in first and "examples/data" in first
    assert "pytest" in second
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci
    uid = re.search(r"investigate (\S+)", first)
    assert uid is not None
    accounts = (ROOT / "examples" / "data" / "accounts.csv").read_text(encoding="utf-8")
    assert f"\n{uid.group(1)}," in accounts
