"""The blob key rules, safe download names and the optional boto3 dependency."""

from __future__ import annotations

import doctest
import email.message
import subprocess
import sys

import pytest

from supportdesk.blobs import (
    MAX_KEY_LENGTH,
    S3BlobStore,
    content_disposition,
    is_valid_key,
    protocol,
    safe_filename,
    validate_key,
    validate_prefix,
)
from supportdesk.testing.blob_contract import INVALID_KEYS, saved_filename

VALID_KEYS = ("a", "tickets/42/attachments/3f2a.pdf", "a-b_c.d", "x/y/z", "k" * MAX_KEY_LENGTH)


@pytest.mark.parametrize("key", VALID_KEYS, ids=lambda key: key[:30])
def test_valid_keys_pass_unchanged(key: str) -> None:
    """A valid key comes back as it went in."""
    assert validate_key(key) == key
    assert is_valid_key(key)


@pytest.mark.parametrize("key", INVALID_KEYS, ids=lambda key: repr(key)[:30])
def test_invalid_keys_are_explained(key: str) -> None:
    """The ValueError names the key (shortened by repr) and the rule."""
    with pytest.raises(ValueError, match="invalid blob key") as caught:
        validate_key(key)
    assert repr(key)[:20] in str(caught.value)
    assert not is_valid_key(key)


def test_keys_must_be_strings() -> None:
    """None or bytes are refused rather than crashing deeper down."""
    with pytest.raises(ValueError, match="must be a str"):
        validate_key(b"key")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["", "a", "a/", "tickets/4", "tickets/42/"])
def test_valid_prefixes(prefix: str) -> None:
    """Empty, a key, or a key and a slash."""
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "//", "a//", "../", "a/../", "a b/"])
def test_invalid_prefixes(prefix: str) -> None:
    """Anything no valid key could start with."""
    with pytest.raises(ValueError, match="invalid blob key prefix"):
        validate_prefix(prefix)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        ("../../etc/passwd", 'attachment; filename="passwd"'),
        ("C:\\Users\\me\\photo.png", 'attachment; filename="photo.png"'),
        ("new\r\nSet-Cookie: x.txt", 'attachment; filename="newSet-Cookie: x.txt"'),
        ("evil\u202etxt.exe", 'attachment; filename="eviltxt.exe"'),
        ("", 'attachment; filename="download"'),
        ("..", 'attachment; filename="download"'),
        (
            'say "hi".txt',
            "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt",
        ),
        ("100%.txt", "attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt"),
        ("报告.pdf", "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"),
    ],
)
def test_content_disposition(filename: str, expected: str) -> None:
    """Paths, control and format characters go; what is not plain ASCII gets filename*."""
    assert content_disposition(filename) == expected


@pytest.mark.parametrize(
    "filename",
    ["report.pdf", "Résumé 2026.pdf", "报告.pdf", 'a "quoted"; name.txt', "emoji 🎉.png", "a\\b"],
)
def test_browsers_save_the_safe_name(filename: str) -> None:
    """Parsed as RFC 6266 says, the header gives back the safe name exactly, in ASCII."""
    value = content_disposition(filename)
    assert value.isascii()
    headers = email.message.Message()
    headers["Content-Disposition"] = value
    assert saved_filename(headers) == safe_filename(filename)


def test_protocol_examples_hold() -> None:
    """The examples in the protocol's docstrings run."""
    assert doctest.testmod(protocol).failed == 0


def test_without_boto3_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3BlobStore without boto3 says which extra to install."""
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ImportError, match=r"supportdesk\[s3\]"):
        S3BlobStore("bucket")


def test_supportdesk_imports_without_boto3() -> None:
    """boto3 is optional: the blob stores import without it."""
    code = (
        "import sys; sys.modules.update(boto3=None, botocore=None); "
        "import supportdesk.blobs; print(supportdesk.blobs.S3BlobStore.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "S3BlobStore"
