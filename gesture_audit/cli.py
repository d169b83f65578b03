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

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Find ballot-number hand signs and candidates in photos (ASN neutrality audits).")


def _version(value: bool) -> None:
    if value:
        import warnings

        from gesture_audit.runtime import choose, cpu_features

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            auto = choose()
        typer.echo(f"gesture-audit {__version__}")
        typer.echo(f"runtime: {auto.runtime} {auto.precision} on {cpu_features()['cpu']} "
                   f"({', '.join(cpu_features()['isa']) or 'no AVX2'}); details: gesture-audit doctor")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    from gesture_audit.runtime import bound_heap

    bound_heap()  # freed photo-sized arrays go back to the system: a long scan's memory stays flat


for _name in COMMANDS:
    try:
        _module = importlib.import_module(f"gesture_audit.commands.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"gesture_audit.commands.{_name}":
            raise
        continue
    _obj = getattr(_module, "app", None)
    if isinstance(_obj, typer.Typer):  # a command group, e.g. `gallery add|list|remove`
        app.add_typer(_obj, name=_name)
    else:
        app.command(_name)(getattr(_module, _name.replace("-", "_")))


def main() -> None:
    """The console entry point: no traceback in front of a user. An unexpected failure is one line
    and exit status 3 (GESTURE_AUDIT_DEBUG=1 shows the traceback); usage errors are 2."""
    import os
    import sys

    import errno

    try:
        app()
    except Exception as e:  # typer has already turned usage errors into SystemExit(2)
        if os.environ.get("GESTURE_AUDIT_DEBUG"):
            raise
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            # a scan's findings.jsonl keeps every row written; --resume finishes the rest
            print(f"Error: no space left on the disk ({e.filename or e.strerror}): free some space, then run "
                  "the same command again (a scan: with --resume)", file=sys.stderr)
            sys.exit(3)
        print(f"Error: {type(e).__name__}: {e} (set GESTURE_AUDIT_DEBUG=1 to see where)", file=sys.stderr)
        sys.exit(3)
