"""What a host's own test suite uses: the fake clock, the pytest fixtures and the contract suites.

The fixtures ``fake_clock`` and ``support_desk`` come from
:mod:`supportdesk.testing.plugin`, which pytest loads by itself once
supportdesk is installed.  Adapter authors subclass
:class:`~supportdesk.testing.contract.StoreContract`, or one area's contract
at a time (:mod:`supportdesk.testing.contract`).
"""

from __future__ import annotations

from ..clock import FakeClock as FakeClock

__all__ = ["FakeClock"]
