"""One module per subcommand; heavy imports stay inside the command functions."""

from collections import Counter
from typing import Annotated

import typer

# The engine profile switch, shared by scan, check, eval and serve.
FastOption = Annotated[bool, typer.Option(
    "--fast", help="The fast profile: lite models, no zoomed or group-photo pass; 1.3-2.2x the photos "
                   "per second, weaker finger readings (benchmarks/README.md).")]

# Videos (mp4, mov, webm, mkv, animated GIF/WebP), shared by scan and check.
VideoRateOption = Annotated[float, typer.Option(
    "--video-rate", min=0.1, max=30.0, help="Frames of a video judged per second; a sign counts when held "
                                            "for 0.5 s over consecutive frames.")]
VideoMaxOption = Annotated[float, typer.Option(
    "--video-max", min=1.0, help="Seconds of a video checked; longer videos are cut short and their "
                                 "finding says so.")]

def counts_line(counts: Counter) -> str:
    """The outcome of every file in a scan, as `scan` and `report` print it (rich markup)."""
    line = (f"all {sum(counts.values())} files: [bold red]{counts['flag']} flagged[/bold red], [bold]"
            f"{counts['review']} review[/bold], {counts['clear']} clear, {counts['error']} could not be checked")
    return line + (f", {counts['skipped']} skipped (not a photo)" if counts["skipped"] else "")
