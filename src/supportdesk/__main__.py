"""``python -m supportdesk``: the same as the ``supportdesk`` command."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
