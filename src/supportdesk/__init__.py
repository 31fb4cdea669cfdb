"""supportdesk: the back end of a customer support portal, embedded in your application."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import attrs as _attrs

from ._errors import AttachmentRejected as AttachmentRejected
from ._errors import Conflict as Conflict
from ._errors import InvalidToken as InvalidToken
from ._errors import InvalidTransition as InvalidTransition
from ._errors import NotFound as NotFound
from ._errors import PermissionDenied as PermissionDenied
from ._errors import StorageError as StorageError
from ._errors import SupportDeskError as SupportDeskError
from ._errors import ValidationError as ValidationError
from ._errors import WorkflowDefinitionError as WorkflowDefinitionError
from ._models import AccountToken as AccountToken
from ._models import Activity as Activity
from ._models import ActivityEntry as ActivityEntry
from ._models import ActivityKind as ActivityKind
from ._models import Announcement as Announcement
from ._models import Article as Article
from ._models import ArticleKind as ArticleKind
from ._models import Attachment as Attachment
from ._models import AttachmentLimits as AttachmentLimits
from ._models import AttachmentRule as AttachmentRule
from ._models import Audience as Audience
from ._models import Collaborator as Collaborator
from ._models import Contact as Contact
from ._models import ContactState as ContactState
from ._models import DeliveryState as DeliveryState
from ._models import DependentOptions as DependentOptions
from ._models import Desk as Desk
from ._models import Event as Event
from ._models import EventKind as EventKind
from ._models import FieldKind as FieldKind
from ._models import FieldSpec as FieldSpec
from ._models import FieldValue as FieldValue
from ._models import FollowUpPolicy as FollowUpPolicy
from ._models import MailOutcome as MailOutcome
from ._models import Notification as Notification
from ._models import NotificationSettings as NotificationSettings
from ._models import Organization as Organization
from ._models import OutboxEntry as OutboxEntry
from ._models import Priority as Priority
from ._models import ReceivedMail as ReceivedMail
from ._models import Recipient as Recipient
from ._models import RequestType as RequestType
from ._models import Role as Role
from ._models import ScanStatus as ScanStatus
from ._models import SearchHit as SearchHit
from ._models import SearchKind as SearchKind
from ._models import SignupAnswers as SignupAnswers
from ._models import Ticket as Ticket
from ._models import TicketRow as TicketRow
from ._models import Timer as Timer
from ._models import TimerState as TimerState
from ._models import TokenPurpose as TokenPurpose
from ._privacy_cases import DEFAULT_RETENTION as DEFAULT_RETENTION
from ._privacy_cases import ErasureReport as ErasureReport
from ._privacy_cases import PurgeReport as PurgeReport
from ._serialization import from_data as from_data
from ._serialization import to_data as to_data
from ._version import __version__ as __version__
from .access import Explanation as Explanation
from .access import Grant as Grant
from .access import TicketScope as TicketScope
from .access import explain as explain
from .access import ticket_scope as ticket_scope
from .accounts import PasswordHasher as PasswordHasher
from .accounts import ScryptHasher as ScryptHasher
from .accounts import SignupDetails as SignupDetails
from .accounts import SignupOptions as SignupOptions
from .accounts import SignupPolicy as SignupPolicy
from .accounts import SignupReview as SignupReview
from .attachments import Scanner as Scanner
from .attachments import ScanVerdict as ScanVerdict
from .blobs import BlobStore as BlobStore
from .blobs import FilesystemBlobStore as FilesystemBlobStore
from .blobs import MemoryBlobStore as MemoryBlobStore
from .blobs import S3BlobStore as S3BlobStore
from .clock import ALWAYS_OPEN as ALWAYS_OPEN
from .clock import AlwaysOpen as AlwaysOpen
from .clock import BusinessCalendar as BusinessCalendar
from .clock import Calendar as Calendar
from .clock import Clock as Clock
from .clock import FakeClock as FakeClock
from .clock import SystemClock as SystemClock
from .desk import DeskOptions as DeskOptions
from .desk import Feed as Feed
from .desk import ListCount as ListCount
from .desk import Mailbox as Mailbox
from .desk import MailDirection as MailDirection
from .desk import MailReport as MailReport
from .desk import Page as Page
from .desk import Participant as Participant
from .desk import PendingSignup as PendingSignup
from .desk import ScanReport as ScanReport
from .desk import SearchPage as SearchPage
from .desk import SupportDesk as SupportDesk
from .desk import SweepReport as SweepReport
from .desk import TicketEmail as TicketEmail
from .desk import TicketList as TicketList
from .desk import TicketView as TicketView
from .desk import Upload as Upload
from .forms import Submission as Submission
from .forms import describe_form as describe_form
from .forms import validate_submission as validate_submission
from .mail import thread_headers as thread_headers
from .notifications import DispatchReport as DispatchReport
from .notifications import NotificationHandler as NotificationHandler
from .notifications import RetryPolicy as RetryPolicy
from .sla import SlaClock as SlaClock
from .sla import SlaMetric as SlaMetric
from .sla import SlaPolicy as SlaPolicy
from .sla import SlaState as SlaState
from .sla import SlaTarget as SlaTarget
from .sla import measure as measure
from .storage.memory import MemoryStore as MemoryStore
from .storage.protocol import Maintained as Maintained
from .storage.protocol import SearchQuery as SearchQuery
from .storage.protocol import Store as Store
from .storage.protocol import TicketQuery as TicketQuery
from .storage.protocol import TicketSort as TicketSort
from .storage.protocol import UnitOfWork as UnitOfWork
from .worker import PassReport as PassReport
from .worker import Worker as Worker
from .workflow import DEFAULT_WORKFLOW as DEFAULT_WORKFLOW
from .workflow import Party as Party
from .workflow import StatusCategory as StatusCategory
from .workflow import StatusSpec as StatusSpec
from .workflow import TimerSpec as TimerSpec
from .workflow import TransitionSpec as TransitionSpec
from .workflow import Workflow as Workflow
from .workflow import WorkflowDefinition as WorkflowDefinition

if TYPE_CHECKING:
    from .storage.sql import SqlStore as SqlStore

_LAZY = {"SqlStore": "supportdesk.storage.sql"}
"""Exports whose module imports SQLAlchemy: loaded on first use, so an in-memory desk never does."""

__all__ = [
    "ALWAYS_OPEN",
    "DEFAULT_RETENTION",
    "DEFAULT_WORKFLOW",
    "AccountToken",
    "Activity",
    "ActivityEntry",
    "ActivityKind",
    "AlwaysOpen",
    "Announcement",
    "Article",
    "ArticleKind",
    "Attachment",
    "AttachmentLimits",
    "AttachmentRejected",
    "AttachmentRule",
    "Audience",
    "BlobStore",
    "BusinessCalendar",
    "Calendar",
    "Maintained",
    "Clock",
    "Collaborator",
    "Conflict",
    "Contact",
    "ContactState",
    "DeliveryState",
    "DependentOptions",
    "Desk",
    "DeskOptions",
    "DispatchReport",
    "ErasureReport",
    "Event",
    "EventKind",
    "Explanation",
    "FakeClock",
    "Feed",
    "FieldKind",
    "FieldSpec",
    "FieldValue",
    "FilesystemBlobStore",
    "FollowUpPolicy",
    "Grant",
    "InvalidToken",
    "InvalidTransition",
    "ListCount",
    "MailDirection",
    "MailOutcome",
    "MailReport",
    "Mailbox",
    "MemoryBlobStore",
    "MemoryStore",
    "NotFound",
    "Notification",
    "NotificationHandler",
    "NotificationSettings",
    "Organization",
    "OutboxEntry",
    "Page",
    "Participant",
    "Party",
    "PassReport",
    "PasswordHasher",
    "PendingSignup",
    "PermissionDenied",
    "Priority",
    "PurgeReport",
    "ReceivedMail",
    "Recipient",
    "RequestType",
    "RetryPolicy",
    "Role",
    "S3BlobStore",
    "ScanReport",
    "ScanStatus",
    "ScanVerdict",
    "Scanner",
    "ScryptHasher",
    "SearchHit",
    "SearchKind",
    "SearchPage",
    "SearchQuery",
    "SignupAnswers",
    "SignupDetails",
    "SignupOptions",
    "SignupPolicy",
    "SignupReview",
    "SlaClock",
    "SlaMetric",
    "SlaPolicy",
    "SlaState",
    "SlaTarget",
    "SqlStore",
    "StatusCategory",
    "StatusSpec",
    "StorageError",
    "Store",
    "Submission",
    "SupportDesk",
    "SupportDeskError",
    "SweepReport",
    "SystemClock",
    "Ticket",
    "TicketEmail",
    "TicketList",
    "TicketQuery",
    "TicketRow",
    "TicketScope",
    "TicketSort",
    "TicketView",
    "Timer",
    "TimerSpec",
    "TimerState",
    "TokenPurpose",
    "TransitionSpec",
    "UnitOfWork",
    "Upload",
    "ValidationError",
    "Worker",
    "Workflow",
    "WorkflowDefinition",
    "WorkflowDefinitionError",
    "describe_form",
    "explain",
    "from_data",
    "measure",
    "thread_headers",
    "ticket_scope",
    "to_data",
    "validate_submission",
]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    exported: type = getattr(importlib.import_module(_LAZY[name]), name)
    exported.__module__ = __name__
    globals()[name] = exported
    return exported


def _publish() -> None:
    """Make each exported class and function report ``supportdesk`` as its module.

    Tracebacks, reprs and the API reference then show the public path
    (``supportdesk.Ticket``), not the private module it is defined in.
    attrs classes resolve their string annotations first, every one before
    any is renamed: a class's annotations, and those of the bases it inherits
    fields from, mean the names of the modules they were written in.
    """
    published = [
        exported
        for exported in (globals().get(name) for name in __all__)
        if exported is not None
        and (isinstance(exported, type) or callable(exported))
        and getattr(exported, "__module__", "").startswith(f"{__name__}.")
    ]
    for exported in published:
        if isinstance(exported, type) and _attrs.has(exported):
            _attrs.resolve_types(exported)
    for exported in published:
        exported.__module__ = __name__


_publish()
