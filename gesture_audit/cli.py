"""The `gesture-audit` command line.

Each subcommand lives in `gesture_audit/commands/<name>.py` as one typer-annotated function whose
heavy imports (numpy, onnxruntime, ...) happen inside the function, so `--version` and `--help`
answer at once.
"""

from __future__ import annotations

import importlib

import typer

from gesture_audit import __version__

COMMANDS = ["hands", "check", "scan", "report", "eval", "synth", "gallery", "symbols", "serve", "doctor"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find ballot-number hand signs and candidates in photos (ASN neutrality audits).",
)


def _version(value: bool) -> None:
    if value:
        import warnings

        from gesture_audit.runtime import choose, cpu_features

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            auto = choose()
        typer.echo(f"gesture-audit {__version__}")
        typer.echo(
            f"runtime: {auto.runtime} {auto.precision} on {cpu_features()['cpu']} "
            f"({', '.join(cpu_features()['isa']) or 'no AVX2'}); details: gesture-audit doctor"
        )
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    from gesture_audit.runtime import bound_heap

    bound_heap()  # freed photo-sized arrays go back to the system: a long scan's memory stays flat


def _broken(name: str, error: Exception):
    """A command whose module failed to import: it says so when run (exit 3) instead of vanishing."""

    def command() -> None:
        typer.echo(
            f"Error: the {name} command cannot load ({type(error).__name__}: {error}); reinstall "
            "gesture-audit (pip install -e '.[dev]' in a checkout)",
            err=True,
        )
        raise typer.Exit(3)

    return command


for _name in COMMANDS:
    try:
        _module = importlib.import_module(f"gesture_audit.commands.{_name}")
    except Exception as exc:  # a broken install: the command stays listed and says what is wrong
        app.command(
            _name,
            help=f"(cannot load: {type(exc).__name__})",
            add_help_option=False,
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(_broken(_name, exc))
        continue
    _obj = getattr(_module, "app", None)
    if isinstance(_obj, typer.Typer):  # a command group, e.g. `gallery add|list|remove`
        app.add_typer(_obj, name=_name)
    else:
        app.command(_name)(getattr(_module, _name.replace("-", "_")))


def main() -> None:
    """The console entry point: no traceback in front of a user. An unexpected failure is one line
    and exit status 3 (GESTURE_AUDIT_DEBUG=1 shows the traceback); usage errors are 2."""
    import errno
    import os
    import sys

    try:
        app()
    except Exception as e:  # typer has already turned usage errors into SystemExit(2)
        if os.environ.get("GESTURE_AUDIT_DEBUG"):
            raise
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            # a scan's findings.jsonl keeps every row written; --resume finishes the rest
            print(
                f"Error: no space left on the disk ({e.filename or e.strerror}): free some space, then run "
                "the same command again (a scan: with --resume)",
                file=sys.stderr,
            )
            sys.exit(3)
        print(f"Error: {type(e).__name__}: {e} (set GESTURE_AUDIT_DEBUG=1 to see where)", file=sys.stderr)
        sys.exit(3)
