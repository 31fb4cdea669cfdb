"""FilesystemBlobStore beyond the contract: staying inside the root, temp files, OS errors."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from supportdesk._errors import StorageError
from supportdesk.blobs import FilesystemBlobStore
from supportdesk.testing.blob_contract import StreamFailure, patterned_stream


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the root, which no key may reach."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret").write_bytes(b"secret")
    return directory


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    """A store whose root exists."""
    (tmp_path / "root").mkdir()
    return FilesystemBlobStore(tmp_path / "root")


def test_a_key_cannot_escape_the_root_through_a_symlink(
    store: FilesystemBlobStore, outside: Path
) -> None:
    """A symlinked directory or file pointing out of the root is refused by every method."""
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    (store.root / "file-link").symlink_to(outside / "secret")
    for key in ("link/secret", "link/new", "file-link"):
        with pytest.raises(ValueError, match="outside"):
            store.put(key, io.BytesIO(b"overwritten"))
        with pytest.raises(ValueError, match="outside"):
            store.open(key)
        with pytest.raises(ValueError, match="outside"):
            store.delete(key)
        with pytest.raises(ValueError, match="outside"):
            store.exists(key)
    with pytest.raises(ValueError, match="outside"):
        list(store.keys("link/"))
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"


def test_traversal_is_refused_before_the_file_system(store: FilesystemBlobStore) -> None:
    """Dot-dot and absolute keys never reach a path."""
    for key in ("../outside/secret", "/etc/passwd", "a/../../x"):
        with pytest.raises(ValueError, match="invalid blob key"):
            store.open(key)


def test_keys_does_not_follow_symlinks(store: FilesystemBlobStore, outside: Path) -> None:
    """Symlinks inside the root are not listed, wherever they point."""
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    store.put("real", io.BytesIO(b"x"))
    assert list(store.keys()) == ["real"]


def test_keys_skips_temporary_files_and_invalid_names(store: FilesystemBlobStore) -> None:
    """Leftovers of a crash and foreign files are not blobs."""
    store.put("dir/kept", io.BytesIO(b"x"))
    (store.root / ".~put-crashed").write_bytes(b"partial")
    (store.root / "dir" / ".~put-crashed").write_bytes(b"partial")
    (store.root / "not a key").write_bytes(b"foreign")
    (store.root / "bad dir").mkdir()
    (store.root / "bad dir" / "file").write_bytes(b"foreign")
    assert list(store.keys()) == ["dir/kept"]


def test_puts_leave_no_temporary_files(store: FilesystemBlobStore) -> None:
    """The temporary file becomes the blob, or is removed when the put fails."""
    store.put("dir/kept", io.BytesIO(b"x"))
    with pytest.raises(StreamFailure):
        store.put("dir/failed", patterned_stream(10_000_000, fail_after=3_000_000))
    assert os.listdir(store.root / "dir") == ["kept"]


def test_a_reader_keeps_the_body_it_opened(store: FilesystemBlobStore) -> None:
    """The rename replaces the directory entry; an open file still reads the old body."""
    store.put("key", io.BytesIO(b"old body"))
    with store.open("key") as reader:
        store.put("key", io.BytesIO(b"new body"))
        assert reader.read() == b"old body"
    with store.open("key") as reader:
        assert reader.read() == b"new body"


def test_the_root_is_created_on_first_put(tmp_path: Path) -> None:
    """A missing root is no error: the first put makes it."""
    store = FilesystemBlobStore(tmp_path / "new" / "root")
    assert list(store.keys()) == []
    store.put("a/b", io.BytesIO(b"x"))
    assert (tmp_path / "new" / "root" / "a" / "b").read_bytes() == b"x"


def test_os_errors_become_storage_errors(tmp_path: Path) -> None:
    """A root that is a file: StorageError, with the OSError chained."""
    (tmp_path / "root").write_bytes(b"not a directory")
    store = FilesystemBlobStore(tmp_path / "root")
    with pytest.raises(StorageError) as caught:
        store.put("key", io.BytesIO(b"x"))
    assert isinstance(caught.value.__cause__, OSError)


def test_a_key_cannot_also_be_a_directory(store: FilesystemBlobStore) -> None:
    """``a`` and ``a/b`` cannot both be files: a documented StorageError, and ``a`` stays."""
    store.put("a", io.BytesIO(b"file"))
    with pytest.raises(StorageError):
        store.put("a/b", io.BytesIO(b"x"))
    assert not store.exists("a/b")
    assert list(store.keys()) == ["a"]


def test_a_directory_is_not_a_blob(store: FilesystemBlobStore) -> None:
    """The directory ``a`` of ``a/b`` does not exist as a blob."""
    store.put("a/b", io.BytesIO(b"x"))
    assert not store.exists("a")
    store.delete("a")
    assert store.exists("a/b")


def test_put_fsyncs_the_file_then_its_directory(
    store: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Durable across a crash: the body is synced before the rename, the rename after it."""
    synced: list[bool] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(descriptor).st_mode))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    store.put("a/key", io.BytesIO(b"x"))
    assert synced == [False, True]
