"""The commands CRM Warden prints for the user to run next work as printed, venv activated or not."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from domain.invocation import warden_command
from tests.jobs.probe_support import NOW, SETTING_PREFIXES

ROOT = Path(__file__).resolve().parents[2]


def _program(folder: Path) -> Path:
    program = folder / ".venv" / "bin" / "warden"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return program


def test_from_the_project_folder_without_the_venv_on_path_it_is_the_venv_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.venv/bin/warden demo` in the project folder: hints say `.venv/bin/warden ...`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [".venv/bin/warden", "demo"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    _program(tmp_path)
    assert warden_command() == ".venv/bin/warden"


def test_with_the_venv_activated_it_is_warden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `warden` on PATH is this program: hints say plain `warden`."""
    program = _program(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(program), "demo"])
    monkeypatch.setenv("PATH", f"{program.parent}:/usr/bin:/bin")
    assert warden_command() == "warden"


def test_started_from_elsewhere_it_is_the_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another folder's program, not on PATH: the hint names it in full."""
    program = _program(tmp_path / "project")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setattr(sys, "argv", [str(program)])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert warden_command() == str(program)


def test_the_demo_s_follow_up_commands_run_as_printed(tmp_path: Path) -> None:
    """`make demo` runs `.venv/bin/warden demo`; the lines it prints next run as printed from that folder."""
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    bin_dir = str(ROOT / ".venv" / "bin")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(SETTING_PREFIXES) or name.startswith("WARDEN_TEST_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir)
    env["COLUMNS"] = "200"
    demo = subprocess.run([".venv/bin/warden", "demo", "--now", NOW], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    hints = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in demo.stdout.splitlines()
             if line.startswith(("See this run again: ", "Apply the plan to the demo CRM: "))}
    assert hints["Apply the plan to the demo CRM"] == ".venv/bin/warden demo --apply"
    again = subprocess.run(shlex.split(hints["See this run again"]), cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert hints["See this run again"].startswith(".venv/bin/warden ledger show ")
