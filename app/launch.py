"""The `tracker` console script: start the format checker's template first, then the command line."""

import os


def main() -> None:
    """Entry point of the `tracker` console script; app.cli parses and runs the command."""
    from app.formatcheck.forked import template_start

    # Before typer is imported (about 50 ms): the template's imports are what `check` waits for.
    template_start(os.cpu_count() or 1)
    from app.cli import main as run

    run()
