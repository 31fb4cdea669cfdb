"""Reading an inbound e-mail: who sent it, what it answers, what it says, whether a person wrote it.

Only the standard library's :mod:`email` package reads the bytes (policy
``default``).  Nothing here looks at the store: the intake decides what the
mail does to a ticket.
"""

from __future__ import annotations

import hashlib
import re
from email import message_from_bytes
from email.errors import ObsoleteHeaderDefect
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import default
from html.parser import HTMLParser

import attrs

from ._errors import ValidationError

_TAG = re.compile(r"\[([A-Z0-9]{2,10}-[0-9]{1,15})\]")
"""A ticket's reference as the library writes it into a subject: ``[HHA-13782]``."""
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_QUOTE_HEADS = (
    # "On <date>, <name> wrote:" in English, French, Spanish, Italian and Portuguese (French
    # sets a no-break space before the colon); German and Dutch name the writer last.
    re.compile(r"^(On|Le|El|Il|Em) .{1,200}(wrote|a écrit|escribió|ha scritto|escreveu)\s?:\s*$"),
    re.compile(r"^(Am|Op) .{1,200} (schrieb|schreef) .{1,200}:\s*$"),
    re.compile(
        r"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original"
        r"|Messaggio originale|Mensagem original|Oorspronkelijk bericht)\s*-{2,}\s*$",
        re.IGNORECASE,
    ),
    # Outlook's header block of the quoted message, in those languages.
    re.compile(r"^(From|Von|De|Da|Van)\s?: .+$"),
    re.compile(r"^_{10,}$"),
)
"""Lines after which a mail client quotes the message replied to."""
LARGEST_MAIL = 25 * 1024 * 1024
"""The size of the largest message read; a larger one is refused before parsing."""
LARGEST_HEADERS = 128 * 1024
"""The size of the largest header block read (a real one, DKIM signatures and Received
lines included, is a few KiB); a larger one is refused before parsing."""


@attrs.frozen(kw_only=True)
class InboundMail:
    """An inbound message as the intake reads it."""

    message_id: str
    """Its ``Message-ID`` (``<...>``); for a message without one, an id made from its bytes."""
    sender: str
    """The ``From`` address, lower-case."""
    sender_name: str
    subject: str
    answers: tuple[str, ...]
    """The Message-IDs it replies to: ``In-Reply-To`` first, then ``References`` newest first."""
    reference: str | None
    """The ticket reference tagged in its subject (``[HHA-13782]``), if any."""
    body: str
    """What the sender wrote: quoted history and signature cut off."""
    attachments: tuple[tuple[str, bytes], ...]
    automatic: str | None
    """Why no person wrote it (an auto-reply, a list), or None."""
    bounced: str | None
    """For a delivery failure report: the address that failed (maybe "" when unreadable)."""


def read_mail(raw: bytes) -> InboundMail:
    """Read ``raw`` message bytes.

    :raises ValidationError: on ``raw`` for bytes that are not a message one
        can answer: too large, without a sender address, or unreadable.
    """
    if not isinstance(raw, bytes | bytearray):
        raise TypeError(f"raw must be bytes, not {type(raw).__name__}")
    if len(raw) > LARGEST_MAIL:
        raise ValidationError({"raw": f"a message of at most {LARGEST_MAIL:,} bytes"})
    if _header_block(bytes(raw)) > LARGEST_HEADERS:
        # The email package's header parser slows down far faster than the headers grow.
        raise ValidationError({"raw": f"headers of at most {LARGEST_HEADERS:,} bytes"})
    try:
        message = message_from_bytes(bytes(raw), policy=default)
        return _read(message, bytes(raw))
    except ValidationError:
        raise
    except Exception as error:  # the email package raises many kinds on malformed input
        raise ValidationError({"raw": f"unreadable message: {type(error).__name__}"}) from None


def _header_block(raw: bytes) -> int:
    """How many bytes come before the blank line that ends the top-level headers."""
    ends = [end for end in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if end >= 0]
    return min(ends) if ends else len(raw)


def _read(message: Message, raw: bytes) -> InboundMail:
    name, sender = _sender(message)
    if not sender:
        raise ValidationError({"raw": "no sender address (From) to answer"})
    subject = _header(message, "Subject")
    tag = _TAG.search(subject)
    bounced = _bounced(message)
    own_id = _ids(_header(message, "Message-ID"))
    return InboundMail(
        # Without an id of its own, the same bytes still make the same message.
        message_id=own_id[0]
        if own_id
        else f"<{hashlib.sha256(raw).hexdigest()}@supportdesk.invalid>",
        sender=sender,
        sender_name=name,
        subject=subject,
        answers=_answers(message),
        reference=None if tag is None else tag.group(1),
        body="" if bounced is not None else _reply_text(message),
        attachments=() if bounced is not None else _attachments(message),
        automatic=_automatic(message),
        bounced=bounced,
    )


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return "" if value is None else " ".join(str(value).split())


def _sender(message: Message) -> tuple[str, str]:
    header = message.get("From")
    found: tuple[Address, ...] = getattr(header, "addresses", ())
    broken = [d for d in getattr(header, "defects", ()) if not isinstance(d, ObsoleteHeaderDefect)]
    # One well-formed mailbox or nobody: a From naming several, or garbled around one, would
    # let a forger lead with someone else's address.
    if len(found) != 1 or broken or not found[0].username or not found[0].domain:
        return "", ""
    return found[0].display_name.strip(), found[0].addr_spec.lower()


def _ids(text: str) -> list[str]:
    return _MESSAGE_ID.findall(text)


def _answers(message: Message) -> tuple[str, ...]:
    replied = _ids(_header(message, "In-Reply-To"))
    referenced = list(reversed(_ids(_header(message, "References"))))
    return tuple(dict.fromkeys([*replied, *referenced]))


def _automatic(message: Message) -> str | None:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _header(message, "Precedence").lower()
    if precedence in _AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe"):
        if message.get(header) is not None:
            return header
    return None


def _bounced(message: Message) -> str | None:
    """The failed recipient of a delivery status notification (RFC 3464); None for other mail."""
    if message.get_content_type() != "multipart/report":
        return None
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload() if part.is_multipart() else []
            for block in (b for b in blocks if isinstance(b, Message)):
                recipient = _header(block, "Final-Recipient") or _header(
                    block, "Original-Recipient"
                )
                if ";" in recipient:
                    return recipient.split(";", 1)[1].strip().lower()
    return ""


def _reply_text(message: Message) -> str:
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    assert isinstance(part, EmailMessage)
    text = part.get_content()
    if part.get_content_subtype() == "html":
        text = _html_text(text)
    return _without_history(text)


def _without_history(text: str) -> str:
    """The lines before the quoted history and the signature, without quoted lines."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.rstrip() == "--" or any(head.match(line.strip()) for head in _QUOTE_HEADS):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _attachments(message: Message) -> tuple[tuple[str, bytes], ...]:
    assert isinstance(message, EmailMessage)
    files = []
    for part in message.iter_attachments():
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        if filename and isinstance(payload, bytes):
            files.append((filename, payload))
    return tuple(files)


class _TextOf(HTMLParser):
    """The text of an HTML body, a line per block."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "blockquote"):
            self._skipping += 1
        if tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "blockquote"):
            self._skipping = max(self._skipping - 1, 0)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    reader = _TextOf()
    reader.feed(html)
    return "".join(reader.parts)
