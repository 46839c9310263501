"""Command-line usage errors (an unknown option, a value of the wrong type) as one line, exit 2.

Click prints a usage error as the command's usage, a hint and the error, which Typer draws in a box:
five lines for one mistake. Every other bad input ends a command with one line naming what was wrong
(``jobs.inputs.fail``); these groups end a usage error the same way, naming the command to ask for help.
Typer carries Click inside it since 0.29, hence the imports from ``typer._click``.
"""

from __future__ import annotations

from typing import Any

from typer._click import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from jobs.inputs import fail


class OneLineUsageErrors(TyperGroup):
    """A Typer group whose usage errors, and its commands', print as one line and exit 2."""

    def make_context(self, info_name: str | None, args: list[str], parent: Context | None = None,
                     **extra: Any) -> Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            raise _one_line(exc, info_name or "warden") from None

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            command = " ".join(filter(None, (ctx.command_path, ctx.invoked_subcommand)))
            raise _one_line(exc, command) from None


def _one_line(exc: UsageError, command: str) -> Exception:
    """``exc`` on one line, naming its command (``command`` when Click's parser did not say which).

    A group given no command shows its help, as Click does (``no_args_is_help``).
    """
    if isinstance(exc, NoArgsIsHelpError):
        return exc
    where = exc.ctx.command_path if exc.ctx is not None else command
    return fail(f"{where}: {exc.format_message().rstrip('.')}; see '{where} --help'", code=exc.exit_code)
