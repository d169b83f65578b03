"""One module per subcommand; heavy imports stay inside the command functions."""

from typing import Annotated

import typer

# The engine profile switch, shared by scan, check, eval and serve.
FastOption = Annotated[bool, typer.Option(
    "--fast", help="The fast profile: lite models, no zoomed or group-photo pass; 1.3-2.2x the photos "
                   "per second, weaker finger readings (benchmarks/README.md).")]
