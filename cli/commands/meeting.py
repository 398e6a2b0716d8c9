"""The ``meeting`` command: the review as a live page on this machine, for the room's shared screen."""

from __future__ import annotations

import click

from ..errors import BadInput
from ..options import db_option, engine_option, load, mapping_option, quarter_option, rules_option

INSTALL = "launchtier meeting needs its web server, the 'meeting' extra: pip install 'launchtier[meeting]'"


@click.command()
@click.argument("roadmap", nargs=-1, required=True, type=click.Path(allow_dash=True))
@quarter_option
@mapping_option
@db_option("The ledger the page reads and records in (default: $LAUNCHTIER_DB, else the project config's, else "
           "launchtier.db in the current directory).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 to serve on; 0 picks a free one.")
@click.option("--no-open", "no_open", is_flag=True, help="Print the address only; do not open a browser.")
@rules_option
@engine_option
def meeting(roadmap, quarter, mapping, db_path, port, no_open, rules_path, engine) -> None:
    """Run the review meeting from a live page in the browser: the quarter's items with their
    tiers (disputed first), each item's explanation, what-if changes to its signals with the
    tier, artifacts, capacity and workload following at once, and the decisions recorded and
    overridden in the ledger after a confirm step. Served on 127.0.0.1 only, at an address with
    a token of this run; Ctrl-C stops it. The files are never changed.

    \b
    Example:
      launchtier meeting examples/roadmap.yaml --quarter 2027-Q1
      launchtier meeting jira.csv --mapping examples/exports/jira-mapping.yaml --db team.db --no-open --port 8765
    """
    try:
        from werkzeug.serving import make_server
    except ImportError:
        raise BadInput([INSTALL]) from None
    import socket
    import threading
    import webbrowser

    from launchtier.engine.roadmap.meeting import Meeting

    from ..web import MeetingApp

    book = load(rules_path)
    meeting_ = Meeting(book, roadmap, mapping=mapping, engine=engine, quarter=quarter, ledger_location=db_path)
    meeting_.head()  # a ledger that launchtier did not write stops here too, before serving
    app = MeetingApp(meeting_, db_path)
    # bound here, not by Werkzeug, which ends the process itself when the port is taken
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(("127.0.0.1", port))
        listening.listen(64)
    except OSError as e:
        listening.close()
        raise BadInput([f"--port {port}: cannot serve on 127.0.0.1:{port} ({e.strerror or e}); choose another port, "
                        "or --port 0 for a free one"]) from None
    server = make_server("127.0.0.1", port, app, threaded=True, fd=listening.fileno())
    app.port = listening.getsockname()[1]
    _quiet_requests()
    click.echo(f"launchtier meeting: {app.url()}")
    click.echo("serving on 127.0.0.1 only; anyone with this address on this machine can record; Ctrl-C stops", err=True)
    if not no_open:
        threading.Thread(target=webbrowser.open, args=(app.url(),), daemon=True).start()
    _stop_on_signals()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        listening.close()
    click.echo("launchtier meeting: stopped", err=True)


def _stop_on_signals() -> None:
    """Ctrl-C, and a TERM (a service manager's, a test's), stop the server cleanly: as an
    interrupt, even where the shell started it with interrupts ignored (in the background)."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def _quiet_requests() -> None:
    # Werkzeug logs every request on the terminal; the meeting's terminal keeps its warnings only
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
