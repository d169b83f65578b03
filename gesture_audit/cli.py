"""The `gesture-audit` command line.

Each subcommand lives in `gesture_audit/commands/<name>.py` as one typer-annotated function whose
heavy imports (numpy, onnxruntime, ...) happen inside the function, so `--version` and `--help`
answer at once.
"""

from __future__ import annotations

import importlib

import typer

from gesture_audit import __version__

COMMANDS = ["hands", "check", "scan", "report", "eval", "synth", "gallery", "serve"]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Find ballot-number hand signs and candidates in photos (ASN neutrality audits).")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gesture-audit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


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
    app()
