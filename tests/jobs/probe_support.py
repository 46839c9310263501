"""Drive the real ``warden`` command with a bad input and read what a user sees.

Every bad input must end the command with one line on stderr naming what is wrong, and exit code 2
(``policy check``: 1, as documented), never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

from jobs.cli import app

NOW = "2026-11-20T15:00:00Z"
SETTING_PREFIXES = ("WARDEN_", "DATABASE_URL", "SMTP_", "SALESFORCE_", "HUBSPOT_", "REQUESTS_CA_BUNDLE")
"""Variables of these names are cleared first, so the machine's own settings never leak into a probe."""


@dataclass(frozen=True)
class Outcome:
    code: int
    line: str
    """The one line printed on stderr."""
    stdout: str


def warden(*args: str, code: int = 2) -> Outcome:
    """Run ``warden ARGS``; assert it ended with ``code``, one line on stderr and no traceback."""
    result = CliRunner().invoke(app, list(args), prog_name="warden")
    assert result.exception is None or isinstance(result.exception, SystemExit), _crash(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("{")]
    assert result.exit_code == code, f"exit {result.exit_code}, expected {code}:\n{result.output}"
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
    assert "Traceback" not in result.output
    return Outcome(result.exit_code, lines[0], result.stdout)


def _crash(exc: BaseException | None) -> str:
    return f"crashed with {type(exc).__name__}: {exc}"
