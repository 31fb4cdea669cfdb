"""SupportDesk.from_url: the right store for the URL, and a durable home for attachment bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from supportdesk import (
    Contact,
    Desk,
    FilesystemBlobStore,
    RequestType,
    StorageError,
    Submission,
    SupportDesk,
)


def test_sqlite_file_keeps_tickets_and_attachments_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    desk = SupportDesk.from_url(url, create=True)
    help_desk = desk.add_desk(Desk(key="HHA", name="Help"))
    general = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General"))
    alice = desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    ticket = desk.open_ticket(alice, general.id, Submission(summary="Help"))
    attachment = desk.attach(alice, ticket.reference, "notes.txt", io.BytesIO(b"plain words"))
    desk.dispose()

    again = SupportDesk.from_url(url)
    assert isinstance(again.blob_store, FilesystemBlobStore)
    assert (tmp_path / "portal.db.attachments").is_dir()
    stored = again.get_ticket(alice, ticket.reference)
    assert (stored.id, stored.summary, stored.requester_id) == (ticket.id, "Help", alice.id)
    _, stream = again.open_attachment(alice, attachment.id)
    with stream:
        assert stream.read() == b"plain words"
    again.dispose()


def test_unmigrated_database_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="supportdesk db upgrade"):
        SupportDesk.from_url(f"sqlite:///{tmp_path / 'empty.db'}")


def test_server_database_needs_a_blob_store() -> None:
    with pytest.raises(ValueError, match="blob_store"):
        SupportDesk.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
