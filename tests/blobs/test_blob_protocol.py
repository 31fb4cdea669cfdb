"""The blob key rules, safe download names and the optional boto3 dependency."""

from __future__ import annotations

import doctest
import email.message
import re
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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
from supportdesk.blobs.protocol import MAX_FILENAME_BYTES, MIN_FILENAME_BYTES
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


# Written out rather than imported, so that the property checks the function's own list.
DEVICE_NAME = re.compile(r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(COM|LPT)[0-9¹²³]) *(\..*)?", re.I)
TRICKY_CHARACTERS = '/\\.:<>"|?* \t\n\r\x00\x7f\u0301\u200b\u202e\u2028\ud800éЖ报🎉'


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("C:\\Users\\me\\photo.png", "photo.png"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1", "_LPT1"),
        ("com9.tar.gz", "_com9.tar.gz"),
        ("nul .txt", "_nul .txt"),
        ("COM¹", "_COM¹"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ('what? <why> "how" a|b*c: d.txt', "what_ _why_ _how_ a_b_c_ d.txt"),
        ("  .hidden. ", "hidden"),
        ("e\u0301te\u0301.txt", "été.txt"),
        ("", "download"),
        ("...", "download"),
        ("../", "download"),
        ("\u202e", "download"),
    ],
)
def test_safe_filename(filename: str, expected: str) -> None:
    """Directories, control and format characters go; device names and forbidden ones change."""
    assert safe_filename(filename) == expected


def test_long_names_keep_their_extension() -> None:
    """500 characters become 255 bytes ending in the extension."""
    name = safe_filename("a" * 496 + ".pdf")
    assert name == "a" * 251 + ".pdf"
    assert len(safe_filename("報" * 500 + ".docx").encode()) <= MAX_FILENAME_BYTES


def test_shortening_never_splits_a_character() -> None:
    """Multi-byte characters are kept whole or dropped whole."""
    name = safe_filename("é" * 10 + ".txt", max_length=15)
    assert name == "é" * 5 + ".txt"


def test_an_extension_too_long_to_keep_is_cut_with_the_name() -> None:
    """Only an extension of at most half the length survives shortening."""
    assert safe_filename("a." + "b" * 300, max_length=20) == "a." + "b" * 18


def test_shortening_into_a_device_name_is_caught() -> None:
    """Cutting "CON xyz.pdf" to "CON .pdf" would name the device."""
    assert safe_filename("CON xyzabc.pdf", max_length=8) == "_CON.pdf"


def test_max_length_must_fit_the_fallback() -> None:
    """Below the fallback's length no result would be possible."""
    with pytest.raises(ValueError, match="max_length must be at least 8"):
        safe_filename("report.pdf", max_length=MIN_FILENAME_BYTES - 1)


@given(
    filename=st.text(alphabet=st.sampled_from(TRICKY_CHARACTERS) | st.characters()),
    max_length=st.integers(MIN_FILENAME_BYTES, 300),
)
@example(filename="CON", max_length=MIN_FILENAME_BYTES)
@example(filename="CON xyzabc.pdf", max_length=8)
@example(filename="e\u200b\u0301", max_length=255)
def test_safe_filename_property(filename: str, max_length: int) -> None:
    """No separator, control or format character, device name or excess byte, ever; stable."""
    name = safe_filename(filename, max_length=max_length)
    assert name
    assert len(name.encode()) <= max_length
    assert not set(name) & set('/\\<>:"|?*')
    assert all(unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in name)
    assert DEVICE_NAME.fullmatch(name) is None
    assert name == name.strip().strip(".")
    assert safe_filename(name, max_length=max_length) == name


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        ("../../etc/passwd", 'attachment; filename="passwd"'),
        ("C:\\Users\\me\\photo.png", 'attachment; filename="photo.png"'),
        ("new\r\nSet-Cookie: x.txt", 'attachment; filename="newSet-Cookie_ x.txt"'),
        ("evil\u202etxt.exe", 'attachment; filename="eviltxt.exe"'),
        ("", 'attachment; filename="download"'),
        ("..", 'attachment; filename="download"'),
        ('say "hi".txt', 'attachment; filename="say _hi_.txt"'),
        ("CON.txt", 'attachment; filename="_CON.txt"'),
        ("100%.txt", "attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt"),
        ("报告.pdf", "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"),
    ],
)
def test_content_disposition(filename: str, expected: str) -> None:
    """The name is made safe first; what is not plain ASCII then gets filename*."""
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
