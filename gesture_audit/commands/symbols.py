"""`gesture-audit symbols add|list|remove`: the party symbols a scan looks for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import ElectionOption

app = typer.Typer(
    no_args_is_help=True,
    help="Manage the party-symbol gallery: logo images with names and "
    "the ballot number of the pair the party supports.",
)

SymbolsPath = Annotated[Path, typer.Option("--symbols", help="The symbols file (JSON).", show_default=False)]


def _fail(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def _load(path: Path, *, create: bool = False):
    from gesture_audit.identify.symbols import SymbolError, SymbolGallery

    if create and not path.exists():
        return SymbolGallery()
    try:
        return SymbolGallery.load(path)
    except SymbolError as e:
        _fail(str(e))


@app.command("add")
def add(
    images: Annotated[
        list[Path], typer.Argument(help="Logo images of this symbol (a clean print each).", show_default=False)
    ],
    symbols: SymbolsPath,
    name: Annotated[str, typer.Option("--name", help="The party or symbol's name.", show_default=False)],
    ballot: Annotated[
        int, typer.Option("--ballot", min=1, help="Ballot number of the pair it supports.", show_default=False)
    ],
    election: ElectionOption = None,
) -> None:
    """Add a symbol's logo images (created with the file if new).

    An image too plain to be found in photos (too few features) is refused; if any is, nothing is
    added. Exit status 2 then. A ballot number that is no pair of the election is added, with a
    warning (a scan under that election will not report it).
    """
    from gesture_audit.identify.symbols import SymbolError, reference_symbols
    from gesture_audit.judge.election import load_election

    try:
        chosen = load_election(None if election is None else str(election))
    except (OSError, ValueError) as e:
        _fail(str(e))
    if chosen.pair(ballot) is None:
        numbers = ", ".join(f"{n:02d}" for n in sorted(chosen.pairs))
        typer.echo(
            f"Warning: ballot {ballot} is no pair of {chosen.name} (its pairs: {numbers}); "
            "check the number, or pass the right --election",
            err=True,
        )
    store = _load(symbols, create=True)
    try:
        symbol = store.add(name, reference_symbols(images), ballot)
    except SymbolError as e:
        _fail(str(e))
    store.save(symbols)
    typer.echo(f"{symbol.name} (ballot {symbol.ballot}): {len(symbol.images)} image(s) in {symbols}")


@app.command("list")
def list_(symbols: SymbolsPath) -> None:
    """List the symbols: name, ballot number and reference images."""
    store = _load(symbols)
    if not len(store):
        typer.echo(f"{symbols}: no symbols")
    for s in store.symbols:
        typer.echo(
            f"{s.name}\tballot {s.ballot}\t{len(s.images)} image(s): "
            + ", ".join(f"{r.file} ({r.sha256[:12]})" for r in s.images)
        )


@app.command("remove")
def remove(
    symbols: SymbolsPath, name: Annotated[str, typer.Option("--name", help="The symbol to remove.", show_default=False)]
) -> None:
    """Remove a symbol and all its images."""
    from gesture_audit.identify.symbols import SymbolError

    store = _load(symbols)
    try:
        symbol = store.remove(name)
    except SymbolError as e:
        _fail(str(e))
    store.save(symbols)
    typer.echo(f"removed {symbol.name} ({len(symbol.images)} image(s)) from {symbols}")
