"""The blob store contract as a pytest suite: subclass it once per adapter, yours included.

Usage::

    class TestMyBlobStore(BlobStoreContract):
        @pytest.fixture
        def blob_store(self) -> BlobStore:
            return MyBlobStore(...)

Needs pytest; the class has no ``Test`` prefix so that pytest only collects
the subclasses.
"""

from __future__ import annotations

import email.message
import email.utils
import hashlib
import io
import random
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, cast

import pytest

from supportdesk._errors import NotFound
from supportdesk.blobs.protocol import BlobInfo, BlobStore

INVALID_KEYS = (
    "",
    "/absolute",
    "trailing/",
    "double//slash",
    "..",
    "../escape",
    "a/../b",
    "a..b",
    "./a",
    "a/./b",
    "nul\x00byte",
    "new\nline",
    "tab\tkey",
    "space key",
    "back\\slash",
    "ünïcode",
    "question?",
    "k" * 1025,
)
"""Keys every store must refuse with :class:`ValueError`, whatever the method."""

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class StreamFailure(Exception):
    """Raised by :func:`patterned_stream` at ``fail_after``: an upload that breaks midway."""


class _PatternedRaw(io.RawIOBase):
    def __init__(self, size: int, seed: int, fail_after: int | None, max_read: int | None) -> None:
        # An odd block length keeps consecutive parts of a large body different.
        self._block = random.Random(seed).randbytes(64 * 1024 + 7)
        self._size = size
        self._fail_after = fail_after
        self._max_read = max_read
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._fail_after is not None and self._position >= self._fail_after:
            raise StreamFailure(f"stream broke after {self._position} bytes")
        limit = self._size if self._fail_after is None else min(self._size, self._fail_after)
        wanted = min(len(buffer), limit - self._position, self._max_read or len(buffer))
        filled = 0
        while filled < wanted:
            offset = (self._position + filled) % len(self._block)
            piece = self._block[offset : offset + wanted - filled]
            buffer[filled : filled + len(piece)] = piece
            filled += len(piece)
        self._position += filled
        return filled


def patterned_stream(
    size: int, *, seed: int = 0, fail_after: int | None = None, max_read: int | None = None
) -> BinaryIO:
    """A binary stream of ``size`` pseudo-random bytes, made chunk by chunk as it is read.

    The same ``size`` and ``seed`` always give the same bytes, and the body
    is never in memory whole, so gigabytes cost nothing.

    :param fail_after: raise :class:`StreamFailure` once this many bytes were read.
    :param max_read: hand out at most this many bytes per read, like a socket.
    """
    raw = _PatternedRaw(size, seed, fail_after, max_read)
    # Unbuffered when max_read is set: a buffer would hide the short reads.
    return cast(BinaryIO, raw) if max_read is not None else io.BufferedReader(raw)


def patterned_bytes(size: int, *, seed: int = 0) -> bytes:
    """All the bytes :func:`patterned_stream` yields for ``size`` and ``seed``."""
    return patterned_stream(size, seed=seed).read()


def sha256_of_stream(stream: BinaryIO) -> str:
    """The hex SHA-256 of everything ``stream`` yields, read chunk by chunk."""
    digest = hashlib.sha256()
    while chunk := stream.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def download(url: str) -> tuple[bytes, email.message.Message]:
    """GET ``url`` with urllib; the body and headers.  Loopback URLs bypass proxies.

    :raises urllib.error.HTTPError: the server refused.
    """
    handlers = []
    if urllib.parse.urlsplit(url).hostname in _LOOPBACK:
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    with opener.open(url, timeout=30) as response:
        return response.read(), response.headers


def _key_id(key: str) -> str:
    return repr(key) if len(key) < 20 else f"{len(key)}-characters"


def _refuses_key(call: Callable[[], object]) -> bool:
    try:
        call()
    except ValueError as error:
        return "key" in str(error)
    return False


class BlobStoreContract:
    """What every :class:`~supportdesk.blobs.BlobStore` must do, one test per rule.

    Override :meth:`blob_store` to give a fresh, empty store per test.
    Override :meth:`blob_part_size` when the store splits bodies into parts
    (S3 multipart): bodies are then sized around it, so that both the
    single and the multipart path are taken.
    """

    @pytest.fixture
    def blob_store(self) -> BlobStore:
        """A fresh, empty store; subclasses must override this fixture."""
        raise NotImplementedError("override the blob_store fixture")

    @pytest.fixture
    def blob_part_size(self) -> int:
        """The store's multipart threshold and part size, if it has one."""
        return 64 * 1024

    @pytest.mark.parametrize(
        ("parts", "extra"),
        [(0, 0), (0, 13), (1, 0), (3, 17)],
        ids=["empty", "small", "exactly-threshold", "several-parts"],
    )
    def test_round_trip(
        self, blob_store: BlobStore, blob_part_size: int, parts: int, extra: int
    ) -> None:
        """What goes in comes out, with its size and SHA-256 reported right."""
        body = patterned_bytes(parts * blob_part_size + extra, seed=parts)
        info = blob_store.put("tickets/1/file.bin", io.BytesIO(body))
        assert info == BlobInfo(
            key="tickets/1/file.bin", size=len(body), sha256=hashlib.sha256(body).hexdigest()
        )
        with blob_store.open("tickets/1/file.bin") as stream:
            assert stream.read() == body

    def test_put_keeps_reading_after_short_reads(
        self, blob_store: BlobStore, blob_part_size: int
    ) -> None:
        """A stream that hands out a few bytes per read (a socket) is read to its end."""
        size = 2 * blob_part_size + 5
        info = blob_store.put("short-reads", patterned_stream(size, max_read=1000))
        assert info.size == size
        with blob_store.open("short-reads") as stream:
            assert stream.read() == patterned_bytes(size)

    def test_put_does_not_close_the_stream(self, blob_store: BlobStore) -> None:
        """The caller owns the stream."""
        stream = io.BytesIO(b"body")
        blob_store.put("key", stream)
        assert not stream.closed

    def test_open_reads_in_chunks(self, blob_store: BlobStore, blob_part_size: int) -> None:
        """The stream from open serves partial reads in order."""
        body = patterned_bytes(blob_part_size + 3)
        blob_store.put("chunks", io.BytesIO(body))
        with blob_store.open("chunks") as stream:
            pieces = iter(lambda: stream.read(1000), b"")
            assert b"".join(pieces) == body

    def test_open_missing_key_is_not_found(self, blob_store: BlobStore) -> None:
        """A missing blob is NotFound, of kind "blob", naming the key."""
        with pytest.raises(NotFound) as caught:
            blob_store.open("missing/key")
        assert (caught.value.kind, caught.value.key) == ("blob", "missing/key")

    def test_modified_at_missing_key_is_not_found(self, blob_store: BlobStore) -> None:
        """No time for a blob that is not there."""
        with pytest.raises(NotFound):
            blob_store.modified_at("missing")

    def test_exists(self, blob_store: BlobStore) -> None:
        """exists is true exactly while a blob is stored."""
        assert not blob_store.exists("key")
        blob_store.put("key", io.BytesIO(b"x"))
        assert blob_store.exists("key")
        assert not blob_store.exists("ke")

    def test_delete_is_idempotent(self, blob_store: BlobStore) -> None:
        """Deleting twice, or deleting what never was, is fine."""
        blob_store.put("key", io.BytesIO(b"x"))
        blob_store.delete("key")
        blob_store.delete("key")
        blob_store.delete("never/was")
        assert not blob_store.exists("key")
        with pytest.raises(NotFound):
            blob_store.open("key")

    def test_delete_leaves_other_keys(self, blob_store: BlobStore) -> None:
        """Only the named blob goes."""
        blob_store.put("a/1", io.BytesIO(b"1"))
        blob_store.put("a/2", io.BytesIO(b"2"))
        blob_store.delete("a/1")
        assert list(blob_store.keys()) == ["a/2"]

    def test_keys_by_prefix_in_ascending_order(self, blob_store: BlobStore) -> None:
        """keys lists every stored key under a prefix, sorted as strings."""
        stored = ["b/c/d", "a/2", "ab", "a.b", "a/1", "a-b", "b/cd"]
        for key in stored:
            blob_store.put(key, io.BytesIO(key.encode()))
        assert list(blob_store.keys()) == sorted(stored)
        assert list(blob_store.keys("a/")) == ["a/1", "a/2"]
        assert list(blob_store.keys("a")) == ["a-b", "a.b", "a/1", "a/2", "ab"]
        assert list(blob_store.keys("b/c")) == ["b/c/d", "b/cd"]
        assert list(blob_store.keys("b/c/")) == ["b/c/d"]
        assert list(blob_store.keys("zz")) == []

    def test_keys_of_an_empty_store(self, blob_store: BlobStore) -> None:
        """Nothing stored, nothing listed."""
        assert list(blob_store.keys()) == []

    @pytest.mark.parametrize("prefix", ["/", "../", "a/../", "a//", "a b", "a\x00"])
    def test_keys_refuses_invalid_prefix(self, blob_store: BlobStore, prefix: str) -> None:
        """A prefix no valid key could start with is a ValueError."""
        with pytest.raises(ValueError, match="prefix"):
            list(blob_store.keys(prefix))

    def test_overwrite_replaces_the_body(self, blob_store: BlobStore, blob_part_size: int) -> None:
        """A second put under a key replaces the first, also when shorter."""
        blob_store.put("key", io.BytesIO(patterned_bytes(blob_part_size + 9, seed=1)))
        info = blob_store.put("key", io.BytesIO(b"shorter"))
        assert info.size == len(b"shorter")
        with blob_store.open("key") as stream:
            assert stream.read() == b"shorter"
        assert list(blob_store.keys()) == ["key"]

    @pytest.mark.parametrize("key", INVALID_KEYS, ids=_key_id)
    def test_invalid_keys_are_refused(self, blob_store: BlobStore, key: str) -> None:
        """Every method refuses an invalid key with ValueError, and stores nothing."""
        calls: dict[str, Callable[[], object]] = {
            "put": lambda: blob_store.put(key, io.BytesIO(b"x")),
            "open": lambda: blob_store.open(key),
            "delete": lambda: blob_store.delete(key),
            "exists": lambda: blob_store.exists(key),
            "modified_at": lambda: blob_store.modified_at(key),
            "presign": lambda: blob_store.presign(
                key, filename="f.txt", expires_in=timedelta(minutes=1)
            ),
        }
        accepted = [name for name, call in calls.items() if not _refuses_key(call)]
        assert accepted == [], f"accepted the key {key!r}"
        assert list(blob_store.keys()) == []

    def test_long_nested_keys_work(self, blob_store: BlobStore) -> None:
        """Keys of many segments and hundreds of characters are fine."""
        key = "/".join(["segment-" + "k" * 90] * 9)
        blob_store.put(key, io.BytesIO(b"deep"))
        assert list(blob_store.keys()) == [key]
        with blob_store.open(key) as stream:
            assert stream.read() == b"deep"

    def test_failed_put_leaves_no_blob(self, blob_store: BlobStore, blob_part_size: int) -> None:
        """A stream that breaks midway: its error propagates and no blob appears."""
        stream = patterned_stream(3 * blob_part_size, fail_after=blob_part_size + 10)
        with pytest.raises(StreamFailure):
            blob_store.put("broken", stream)
        assert not blob_store.exists("broken")
        assert list(blob_store.keys()) == []

    def test_failed_put_keeps_the_previous_blob(
        self, blob_store: BlobStore, blob_part_size: int
    ) -> None:
        """A failed overwrite leaves the old body in place."""
        blob_store.put("key", io.BytesIO(b"old body"))
        with pytest.raises(StreamFailure):
            blob_store.put("key", patterned_stream(3 * blob_part_size, fail_after=5))
        with blob_store.open("key") as stream:
            assert stream.read() == b"old body"

    def test_modified_at_is_recent_utc(self, blob_store: BlobStore) -> None:
        """modified_at is aware UTC, close to now (allowing for a remote clock's skew)."""
        blob_store.put("key", io.BytesIO(b"x"))
        modified = blob_store.modified_at("key")
        assert modified.utcoffset() == timedelta(0)
        assert abs(modified - datetime.now(UTC)) < timedelta(minutes=5)

    def test_concurrent_puts_leave_one_whole_body(
        self, blob_store: BlobStore, blob_part_size: int
    ) -> None:
        """Racing writers on one key: one of them wins, whole."""
        size = blob_part_size + 5
        infos: list[BlobInfo] = []

        def write(seed: int) -> None:
            infos.append(blob_store.put("raced", patterned_stream(size, seed=seed)))

        threads = [threading.Thread(target=write, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with blob_store.open("raced") as stream:
            digest = sha256_of_stream(stream)
        assert digest in {info.sha256 for info in infos}
        assert len(infos) == 4

    def test_presign_gives_none_or_a_download_url(self, blob_store: BlobStore) -> None:
        """Either no URL, or one that downloads the bytes as an attachment named right."""
        blob_store.put("tickets/7/cv.pdf", io.BytesIO(b"%PDF-1.7 body"))
        url = blob_store.presign(
            "tickets/7/cv.pdf",
            filename="Résumé 2026.pdf",
            expires_in=timedelta(minutes=5),
            content_type="application/pdf",
        )
        if url is None:
            return
        body, headers = download(url)
        assert body == b"%PDF-1.7 body"
        assert headers.get_content_type() == "application/pdf"
        assert_attachment(headers.get("Content-Disposition", ""), "Résumé 2026.pdf")


def assert_attachment(disposition: str, filename: str) -> None:
    """Assert a Content-Disposition value forces a download saved as ``filename``."""
    parsed = email.message.Message()
    parsed["Content-Disposition"] = disposition
    assert parsed.get_content_disposition() == "attachment", disposition
    assert saved_filename(parsed) == filename, disposition


def saved_filename(headers: email.message.Message) -> str | None:
    """The name a browser saves a download as: ``filename*`` wins over ``filename`` (RFC 6266)."""
    params = headers.get_params(header="content-disposition") or []
    values = [value for name, value in params if name == "filename"]
    # email keeps a decoded filename* as a (charset, language, text) triple.
    extended = [value for value in values if isinstance(value, tuple)]
    if extended:
        return email.utils.collapse_rfc2231_value(extended[0])
    plain = [value for value in values if isinstance(value, str)]
    return plain[0] if plain else None
