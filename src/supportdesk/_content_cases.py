"""Content use cases: announcements, the knowledge base, and search over everything."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TypeVar

import attrs

from . import access
from ._desk_base import _DeskBase
from ._errors import NotFound, ValidationError
from ._input import (
    LONG_TEXT,
    SEARCH_TEXT,
    check_choice,
    check_id,
    check_moment,
    check_text,
    check_texts,
    check_type,
    text_problem,
)
from ._models import Announcement, Article, ArticleKind, Audience, Contact, SearchKind
from ._paging import (
    MAX_SEARCH_OFFSET,
    _check_page_size,
    _decode_offset,
    _encode_cursor,
    _one_page,
)
from ._views import SearchPage
from .search import query_terms
from .storage.protocol import SearchQuery, UnitOfWork

_Content = TypeVar("_Content", Announcement, Article)

MAX_TAGS = 50
"""The most tags an article may carry."""

_CUSTOMER_AUDIENCES = frozenset({Audience.EVERYONE, Audience.CUSTOMERS})


class _ContentCases(_DeskBase):
    """Announcements, articles and FAQs, and the search that finds them with tickets."""

    def save_announcement(self, actor: Contact, announcement: Announcement) -> Announcement:
        """Publish an announcement or change one (agents and admins); returns it as stored."""
        check_type("announcement", announcement, Announcement)
        check_id("id", announcement.id)
        check_type("audience", announcement.audience, Audience)
        if announcement.active_from is not None:
            check_moment("active_from", announcement.active_from)
        if announcement.active_until is not None:
            check_moment("active_until", announcement.active_until)
        errors = _content_errors(announcement.title, announcement.body)
        start, end = announcement.active_from, announcement.active_until
        if start is not None and end is not None and end <= start:
            errors["active_until"] = "End the announcement after it starts."
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            staff = self._require_staff(work, actor, "publish announcements")
            stored = work.content.get_announcement(announcement.id)
            saved = _stamped(
                attrs.evolve(announcement, active_from=start or now), stored, staff, now
            )
            work.content.put_announcement(saved)
            return saved

    def delete_announcement(self, actor: Contact, announcement_id: str) -> None:
        """Take an announcement down for good (agents and admins)."""
        self._delete(
            actor,
            "announcement",
            announcement_id,
            lambda work: work.content.remove_announcement(announcement_id),
        )

    def list_announcements(
        self, actor: Contact, *, include_inactive: bool = False
    ) -> Sequence[Announcement]:
        """The announcements the actor's home page shows, newest first.

        Customers see the active ones for everyone or for customers; staff see
        every audience, and with ``include_inactive`` past and future ones too.
        """
        check_type("include_inactive", include_inactive, bool)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            staff = access.is_staff(actor)
            return work.content.list_announcements(
                active_at=None if staff and include_inactive else self._clock.now(),
                audiences=None if staff else _CUSTOMER_AUDIENCES,
            )

    def save_article(self, actor: Contact, article: Article) -> Article:
        """Write or change a knowledge-base article or FAQ (agents and admins).

        Publish it with ``published=True``; until then it is a draft only
        staff see.
        """
        check_type("article", article, Article)
        check_id("id", article.id)
        check_type("kind", article.kind, ArticleKind)
        check_type("published", article.published, bool)
        errors = _content_errors(article.title, article.body)
        if tag_problem := _tags_problem(check_texts("tags", article.tags)):
            errors["tags"] = tag_problem
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            staff = self._require_staff(work, actor, "write articles")
            stored = work.content.get_article(article.id)
            tags = tuple(tag.strip() for tag in article.tags)
            saved = _stamped(attrs.evolve(article, tags=tags), stored, staff, now)
            work.content.put_article(saved)
            return saved

    def delete_article(self, actor: Contact, article_id: str) -> None:
        """Delete a knowledge-base article or FAQ (agents and admins)."""
        self._delete(
            actor, "article", article_id, lambda work: work.content.remove_article(article_id)
        )

    def _delete(
        self,
        actor: Contact,
        kind: str,
        content_id: str,
        remove: Callable[[UnitOfWork], bool],
    ) -> None:
        """Delete the ``kind`` with that id: ``remove`` says whether there was one (staff only)."""
        check_id(f"{kind}_id", content_id)
        with self._store.unit_of_work() as work:
            self._require_staff(work, actor, f"delete {kind}s")
            if not remove(work):
                raise NotFound(kind, content_id)

    def get_article(self, actor: Contact, article_id: str) -> Article:
        """An article or FAQ; a draft is :class:`~supportdesk.NotFound` for customers."""
        check_id("article_id", article_id)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            article = work.content.get_article(article_id)
            if article is None or not (article.published or access.is_staff(actor)):
                raise NotFound("article", article_id)
            return article

    def list_articles(
        self, actor: Contact, *, kind: ArticleKind | None = None, tag: str | None = None
    ) -> Sequence[Article]:
        """The knowledge base by title: published entries, and drafts too for staff."""
        kind = None if kind is None else check_choice("kind", kind, ArticleKind)
        if tag is not None:
            check_text("tag", tag, one_line=True)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            return work.content.list_articles(
                published_only=not access.is_staff(actor), kind=kind, tag=tag
            )

    def search(
        self,
        actor: Contact,
        text: str,
        *,
        kinds: Collection[SearchKind] | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        """Search what the actor may see: tickets, knowledge-base articles, announcements.

        Tickets match on reference, summary, description and public updates,
        and on internal notes for staff only; the ticket scope is the one
        lists use, so search shows no ticket :meth:`get_ticket` would refuse.
        Customers find published articles and the announcements they are
        shown; staff find drafts too.  Every word must match, a word of three
        characters or more also as the beginning of a longer one (``sft``
        finds ``sftp``, see :func:`supportdesk.search.is_prefix`); hits come
        best first.  ``text`` takes at most 500 characters (16 words count), and
        pages reach 10,000 results deep.
        """
        terms = query_terms(check_text("text", text, max_length=SEARCH_TEXT))
        if not terms:
            raise ValidationError({"text": "Enter a word to search for."})
        wanted = frozenset(SearchKind) if kinds is None else _search_kinds(kinds)
        _check_page_size(limit, 100, "results")
        offset = _decode_offset(cursor)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            staff = access.is_staff(actor)
            query = SearchQuery(
                terms=terms,
                kinds=wanted,
                ticket_scope=access.ticket_scope(actor),
                include_internal=staff,
                include_drafts=staff,
                audiences=frozenset(Audience) if staff else _CUSTOMER_AUDIENCES,
                now=self._clock.now(),
                limit=limit + 1,
                offset=offset,
            )
            found = work.search.find(query)
        hits, more = _one_page(found, limit)
        deeper = more and offset + limit <= MAX_SEARCH_OFFSET
        return SearchPage(
            hits=hits, next_cursor=_encode_cursor(str(offset + limit)) if deeper else None
        )


def _stamped(saved: _Content, stored: _Content | None, author: Contact, now: datetime) -> _Content:
    """``saved`` with who wrote it and when: kept from the stored version, else the saver now."""
    if stored is None:
        return attrs.evolve(saved, author_id=author.id, created_at=now, updated_at=now)
    return attrs.evolve(
        saved, author_id=stored.author_id, created_at=stored.created_at, updated_at=now
    )


def _content_errors(title: object, body: object) -> dict[str, str]:
    """What is wrong with a title (one line) and a body, by field; a non-string is a TypeError."""
    title = check_type("title", title, str)
    body = check_type("body", body, str)
    errors = {}
    if not title.strip():
        errors["title"] = "Enter a title."
    elif problem := text_problem(title, one_line=True):
        errors["title"] = problem
    if not body.strip():
        errors["body"] = "Enter the text."
    elif problem := text_problem(body, max_length=LONG_TEXT):
        errors["body"] = problem
    return errors


def _tags_problem(tags: Sequence[str]) -> str | None:
    if any(not tag.strip() for tag in tags):
        return "Remove the empty tag."
    if len(tags) > MAX_TAGS:
        return f"Use at most {MAX_TAGS} tags."
    return None


def _search_kinds(kinds: object) -> frozenset[SearchKind]:
    """The kinds a search asks for: members of :class:`SearchKind` or their values."""
    if isinstance(kinds, str | bytes) or not isinstance(kinds, Collection):
        raise TypeError(f"kinds must be a collection of SearchKind, not {type(kinds).__name__}")
    return frozenset(check_choice("kinds", kind, SearchKind) for kind in kinds)
