"""How the user typed ``warden``, so that the commands CRM Warden prints next work as printed.

From a project folder whose virtual environment is not activated the command is
``.venv/bin/warden``: a hint that says ``warden ledger show ...`` would fail with "command not
found", so hints name the program the way it was started.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def warden_command() -> str:
    """``warden`` when that name on PATH is this program (or it was not started as ``warden``), else its path.

    The path is relative to the current folder when the program is inside it (``.venv/bin/warden``).
    """
    started = Path(sys.argv[0])
    if started.name != "warden":  # python -m jobs, tests, Celery: the installed name is the best guess
        return "warden"
    on_path = shutil.which("warden")
    if on_path is not None and Path(on_path).resolve() == started.resolve():
        return "warden"
    absolute = started.absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return str(absolute)
    return str(relative) if len(relative.parts) > 1 else f"./{relative}"
