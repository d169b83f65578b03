"""`gesture-audit gallery add|list|remove`: the candidates whose faces a scan looks for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gesture_audit.commands import ElectionOption, fail, open_entries, remove_entry, warn_unknown_ballot

app = typer.Typer(
    no_args_is_help=True,
    help="Manage the candidate gallery: reference face photos with "
    "names and ballot numbers (needs the optional `faces` extra).",
)

GalleryPath = Annotated[Path, typer.Option("--gallery", help="The gallery file (JSON).", show_default=False)]


@app.command("add")
def add(
    photos: Annotated[
        list[Path], typer.Argument(help="Reference photos, each showing exactly this one face.", show_default=False)
    ],
    gallery: GalleryPath,
    name: Annotated[str, typer.Option("--name", help="The candidate's name.", show_default=False)],
    ballot: Annotated[int | None, typer.Option("--ballot", help="The candidate's ballot number.")] = None,
    election: ElectionOption = None,
) -> None:
    """Add a candidate's reference photos (created with the file if new).

    Every photo must show exactly one face; if any does not, nothing is added. Exit status 2 then.
    A ballot number that is no pair of the election is added, with a warning.
    """
    from gesture_audit.identify.embed import FacesUnavailable
    from gesture_audit.identify.gallery import Gallery, GalleryError, reference_photos

    warn_unknown_ballot(ballot, election)
    store = open_entries(Gallery, gallery, create=True)
    try:
        candidate = store.add(name, reference_photos(photos), ballot)
    except (FacesUnavailable, GalleryError) as e:
        fail(str(e))
    store.save(gallery)
    number = "no ballot number" if candidate.ballot is None else f"ballot {candidate.ballot}"
    typer.echo(f"{candidate.name} ({number}): {len(candidate.photos)} photo(s) in {gallery}")


@app.command("list")
def list_(gallery: GalleryPath) -> None:
    """List the candidates: name, ballot number and reference photos."""
    from gesture_audit.identify.gallery import Gallery

    store = open_entries(Gallery, gallery)
    if not len(store):
        typer.echo(f"{gallery}: no candidates")
    for c in store.candidates:
        number = "-" if c.ballot is None else str(c.ballot)
        typer.echo(
            f"{c.name}\tballot {number}\t{len(c.photos)} photo(s): "
            + ", ".join(f"{p.file} ({p.sha256[:12]})" for p in c.photos)
        )


@app.command("remove")
def remove(
    gallery: GalleryPath,
    name: Annotated[str, typer.Option("--name", help="The candidate to remove.", show_default=False)],
) -> None:
    """Remove a candidate and all their reference photos."""
    from gesture_audit.identify.gallery import Gallery

    candidate = remove_entry(Gallery, gallery, name)
    typer.echo(f"removed {candidate.name} ({len(candidate.photos)} photo(s)) from {gallery}")
