"""`gesture-audit symbols add|list|remove`: the party symbols a scan looks for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import ElectionOption, fail, open_entries, remove_entry, warn_unknown_ballot

app = typer.Typer(
    no_args_is_help=True,
    help="Manage the party-symbol gallery: logo images with names and "
    "the ballot number of the pair the party supports.",
)

SymbolsPath = Annotated[Path, typer.Option("--symbols", help="The symbols file (JSON).", show_default=False)]


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
    from gesture_audit.identify.symbols import SymbolError, SymbolGallery, reference_symbols

    warn_unknown_ballot(ballot, election)
    store = open_entries(SymbolGallery, symbols, create=True)
    try:
        symbol = store.add(name, reference_symbols(images), ballot)
    except SymbolError as e:
        fail(str(e))
    store.save(symbols)
    typer.echo(f"{symbol.name} (ballot {symbol.ballot}): {len(symbol.images)} image(s) in {symbols}")


@app.command("list")
def list_(symbols: SymbolsPath) -> None:
    """List the symbols: name, ballot number and reference images."""
    from gesture_audit.identify.symbols import SymbolGallery

    store = open_entries(SymbolGallery, symbols)
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
    from gesture_audit.identify.symbols import SymbolGallery

    symbol = remove_entry(SymbolGallery, symbols, name)
    typer.echo(f"removed {symbol.name} ({len(symbol.images)} image(s)) from {symbols}")
