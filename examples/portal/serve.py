"""The portal and its worker in one process: ``python -m examples.portal.serve``.

``nox -s portal`` runs it.  The worker fires reminders, auto-resolves and
auto-closes on the desks' own calendars, and delivers notifications: here to
the console, one line per e-mail, sign-up and reset links included, so that
you can follow them.  Ctrl-C stops both.
"""

from __future__ import annotations

import argparse
import threading

from werkzeug.serving import run_simple

from supportdesk import Event, EventKind, Worker

from .app import create_app, portal_desk

LINKS = {EventKind.SIGNUP_REQUESTED: "/signup", EventKind.PASSWORD_RESET_REQUESTED: "/password"}
"""Where each kind of e-mailed link leads."""


def console_mail(event: Event) -> None:
    """Print what would be e-mailed: to whom, about what, and the link it carries."""
    token = event.payload.get("token")
    for recipient in event.recipients:
        about = event.payload.get("reference") or event.payload.get("email", "")
        print(f"mail to {recipient.email}: {event.kind.value} {about}".rstrip())
        if token and event.kind in LINKS:
            print(f"    open {LINKS[event.kind]}?token={token}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    desk = portal_desk()
    app = create_app(desk)
    stop = threading.Event()
    worker = threading.Thread(target=Worker(desk, handler=console_mail).run, args=(stop,))
    worker.start()
    try:
        run_simple("127.0.0.1", args.port, app, threaded=True)
    finally:
        stop.set()
        worker.join()


if __name__ == "__main__":
    main()
