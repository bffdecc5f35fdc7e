"""The worker process behind check_pdf_isolated: reads tasks on stdin, answers on stdout."""

from __future__ import annotations

import logging
import os
import resource
import signal
import warnings
from multiprocessing.connection import Connection
from typing import Any

from app.formatcheck.rules import check_pdf

# A worker is replaced after this many checks so slow leaks in the PDF libraries cannot pile up.
TASKS_PER_WORKER = 500


def _run(kind: str, args: tuple[Any, ...]) -> Any:
    """One request: a format check (its report as a dict) or a page picture (PNG bytes)."""
    if kind == "render":
        from app.formatcheck.render import render_page_png  # Pillow is imported by the first picture only

        source, page, boxes, options = args
        return render_page_png(source, page, boxes, **options)
    source, ruleset, kwargs = args
    return check_pdf(source, ruleset, **kwargs).to_dict()


def serve(inbox: Connection, outbox: Connection) -> None:
    """Answer check and render tasks until the parent closes the pipe or the task quota is used up."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    outbox.send(("ready", os.getpid()))
    for _ in range(TASKS_PER_WORKER):
        try:
            kind, *args, memory_bytes = inbox.recv()
        except (EOFError, OSError):
            return
        cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        try:
            result: tuple[str, Any] = ("ok", _run(kind, tuple(args)))
        except MemoryError:
            result = ("memory", None)
        except RecursionError:
            result = ("recursion", None)
        except (OSError, ValueError, TypeError) as exc:  # caller errors: a missing file, a bad ruleset
            result = ("raise", exc)
        except Exception as exc:  # a checker bug on odd input must not look like a crash to the caller
            result = ("crash", repr(exc)[:500])
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        try:
            outbox.send(result)
        except Exception:
            return
        if result[0] == "memory":
            return  # the heap may be fragmented and bloated; the parent starts a fresh worker


def quiet_process() -> None:
    """Ignore Ctrl-C (the parent's to handle), silence library chatter, and move stdout to stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed student PDFs are the normal case here
    warnings.simplefilter("ignore")
    # Anything a library prints must not corrupt a protocol or a report on stdout: stdout goes to stderr.
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def main() -> None:
    """Set up the pipes and serve."""
    inbox = Connection(os.dup(0), writable=False)
    outbox = Connection(os.dup(1), readable=False)
    quiet_process()
    serve(inbox, outbox)


if __name__ == "__main__":
    main()
