"""Unpadded URL-safe base64: the text form of password hashes and page cursors."""

from __future__ import annotations

import base64


def encode(raw: bytes) -> str:
    """``raw`` as URL-safe base64 without the trailing ``=`` padding."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str) -> bytes:
    """The bytes :func:`encode` wrote; :class:`binascii.Error` for text it did not write."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
