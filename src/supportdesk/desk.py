"""SupportDesk, the facade: every use case is one method and one unit of work."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict, Unpack

from ._account_cases import _AccountCases
from ._attachment_cases import TICKET_BLOBS as TICKET_BLOBS
from ._attachment_cases import _AttachmentCases
from ._attachment_upkeep import _AttachmentUpkeep
from ._collaborator_cases import _CollaboratorCases
from ._content_cases import _ContentCases
from ._directory_cases import _DirectoryCases
from ._list_cases import _ListCases
from ._notification_cases import _NotificationCases
from ._ticket_cases import _TicketCases
from ._timer_cases import _TimerCases
from ._views import Feed as Feed
from ._views import Page as Page
from ._views import ScanReport as ScanReport
from ._views import SearchPage as SearchPage
from ._views import SweepReport as SweepReport
from ._views import TicketList as TicketList
from ._views import TicketView as TicketView
from ._views import Upload as Upload
from ._workflow_cases import _WorkflowCases
from .accounts import PasswordHasher, ScryptHasher, SignupPolicy
from .attachments import Scanner
from .blobs import BlobStore, FilesystemBlobStore, MemoryBlobStore
from .clock import ALWAYS_OPEN, Calendar, Clock, SystemClock
from .notifications import RetryPolicy
from .storage.protocol import Store
from .workflow import DEFAULT_WORKFLOW, Workflow


class SupportDesk(
    _DirectoryCases,
    _AccountCases,
    _TicketCases,
    _AttachmentCases,
    _AttachmentUpkeep,
    _WorkflowCases,
    _CollaboratorCases,
    _ListCases,
    _TimerCases,
    _ContentCases,
    _NotificationCases,
):
    """The support portal's back end.  Every use case takes the acting contact.

    A ticket the actor may not see raises :class:`~supportdesk.NotFound`,
    exactly as a ticket that does not exist.  Each call is one transaction:
    it either happens whole, events included, or not at all.  (Attachment
    bytes go to the blob store before that transaction, and are deleted
    again if it fails.)

    :param blob_store: where attachment bytes go; by default a
        :class:`~supportdesk.blobs.MemoryBlobStore` on the desk's clock.
    :param scanner: a malware scan hook; without one every attachment is
        ``clean`` once stored.
    :param scan_later: store attachments ``scanning`` and leave the scan to
        :meth:`scan_pending_attachments` (a worker) rather than scan during
        the upload.
    :raises ValueError: ``scan_later`` without a ``scanner``.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        workflow: Workflow | None = None,
        calendar: Calendar = ALWAYS_OPEN,
        retry_policy: RetryPolicy | None = None,
        signup_policy: SignupPolicy | None = None,
        password_hasher: PasswordHasher | None = None,
        blob_store: BlobStore | None = None,
        scanner: Scanner | None = None,
        scan_later: bool = False,
    ) -> None:
        if scan_later and scanner is None:
            raise ValueError("scan_later needs a scanner to scan with")
        self._store = store
        self._clock: Clock = clock or SystemClock()
        self._blobs: BlobStore = blob_store or MemoryBlobStore(clock=self._clock)
        self._scanner = scanner
        self._scan_later = scan_later
        self.workflow = workflow or Workflow(DEFAULT_WORKFLOW)
        self.workflow.check_calendar(calendar)
        self._calendar = calendar
        self.retry_policy = retry_policy or RetryPolicy()
        self.signup_policy = signup_policy or SignupPolicy()
        self._hasher: PasswordHasher = password_hasher or ScryptHasher()
        self._decoy_hash: str | None = None

    @classmethod
    def in_memory(cls, **options: Unpack[DeskOptions]) -> SupportDesk:
        """A desk on a fresh :class:`~supportdesk.storage.memory.MemoryStore`.

        ``options`` are the constructor's keyword arguments.
        """
        from .storage.memory import MemoryStore

        return cls(MemoryStore(), **options)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        create: bool = False,
        synchronous: str = "NORMAL",
        **options: Unpack[DeskOptions],
    ) -> SupportDesk:
        """A desk on the database at ``url``: ``sqlite:///portal.db`` or ``postgresql+psycopg://...``.

        Attachment bytes of a SQLite file go to a folder beside it
        (``portal.db.attachments/``) unless ``blob_store`` says otherwise; on
        any other database pass a ``blob_store`` (an S3 bucket, say).

        :param create: migrate the database to the latest schema first;
            otherwise a database that is not up to date is refused.
        :param synchronous: SQLite's ``PRAGMA synchronous`` (NORMAL or FULL).
        :raises StorageError: when the database is unreachable or not migrated.
        :raises ValueError: for a server database without a ``blob_store``.
        """
        from .storage.sql import SqlStore

        if "blob_store" not in options:
            options["blob_store"] = _default_blob_store(url)
        store = SqlStore.from_url(url, create=create, synchronous=synchronous)
        try:
            return cls(store, **options)
        except BaseException:
            store.close()
            raise

    @property
    def blob_store(self) -> BlobStore:
        """Where this desk keeps attachment bytes."""
        return self._blobs

    def dispose(self) -> None:
        """Release the store's connections and files."""
        self._store.close()


class DeskOptions(TypedDict, total=False):
    """The keyword arguments of :class:`SupportDesk`, for its other constructors."""

    clock: Clock | None
    workflow: Workflow | None
    calendar: Calendar
    retry_policy: RetryPolicy | None
    signup_policy: SignupPolicy | None
    password_hasher: PasswordHasher | None
    blob_store: BlobStore | None
    scanner: Scanner | None
    scan_later: bool


def _default_blob_store(url: str) -> BlobStore:
    """A folder beside a SQLite file; anything else must name its blob store."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return FilesystemBlobStore(Path(f"{parsed.database}.attachments"))
    if parsed.get_backend_name() == "sqlite":
        return MemoryBlobStore()
    raise ValueError(
        f"a desk on {parsed.get_backend_name()} needs blob_store=... for attachment bytes "
        "(S3BlobStore or FilesystemBlobStore)"
    )


__all__ = [
    "TICKET_BLOBS",
    "Feed",
    "Page",
    "ScanReport",
    "SearchPage",
    "SupportDesk",
    "SweepReport",
    "TicketList",
    "TicketView",
    "Upload",
]
