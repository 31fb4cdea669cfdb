"""Content use cases: announcements, the knowledge base, and search over everything."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TypeVar

import attrs

from . import access
from ._desk_base import _DeskBase
from ._errors import NotFound, ValidationError
from ._models import Announcement, Article, ArticleKind, Audience, Contact, SearchKind
from ._paging import _check_page_size, _decode_offset, _encode_cursor, _one_page
from ._views import SearchPage
from .search import query_terms
from .storage.protocol import SearchQuery

_Content = TypeVar("_Content", Announcement, Article)

_CUSTOMER_AUDIENCES = frozenset({Audience.EVERYONE, Audience.CUSTOMERS})


class _ContentCases(_DeskBase):
    """Announcements, articles and FAQs, and the search that finds them with tickets."""

    def save_announcement(self, actor: Contact, announcement: Announcement) -> Announcement:
        """Publish an announcement or change one (agents and admins); returns it as stored."""
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
        with self._store.unit_of_work() as work:
            self._require_staff(work, actor, "delete announcements")
            if not work.content.remove_announcement(announcement_id):
                raise NotFound("announcement", announcement_id)

    def list_announcements(
        self, actor: Contact, *, include_inactive: bool = False
    ) -> Sequence[Announcement]:
        """The announcements the actor's home page shows, newest first.

        Customers see the active ones for everyone or for customers; staff see
        every audience, and with ``include_inactive`` past and future ones too.
        """
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
        errors = _content_errors(article.title, article.body)
        if any(not tag.strip() for tag in article.tags):
            errors["tags"] = "Remove the empty tag."
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
        with self._store.unit_of_work() as work:
            self._require_staff(work, actor, "delete articles")
            if not work.content.remove_article(article_id):
                raise NotFound("article", article_id)

    def get_article(self, actor: Contact, article_id: str) -> Article:
        """An article or FAQ; a draft is :class:`~supportdesk.NotFound` for customers."""
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
        shown; staff find drafts too.  Every word must match; hits come best
        first.
        """
        terms = query_terms(text)
        if not terms:
            raise ValidationError({"text": "Enter a word to search for."})
        _check_page_size(limit, 100, "results")
        offset = _decode_offset(cursor)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            staff = access.is_staff(actor)
            query = SearchQuery(
                terms=terms,
                kinds=frozenset(SearchKind) if kinds is None else frozenset(kinds),
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
        return SearchPage(
            hits=hits, next_cursor=_encode_cursor(str(offset + limit)) if more else None
        )


def _stamped(saved: _Content, stored: _Content | None, author: Contact, now: datetime) -> _Content:
    """``saved`` with who wrote it and when: kept from the stored version, else the saver now."""
    if stored is None:
        return attrs.evolve(saved, author_id=author.id, created_at=now, updated_at=now)
    return attrs.evolve(
        saved, author_id=stored.author_id, created_at=stored.created_at, updated_at=now
    )


def _content_errors(title: str, body: str) -> dict[str, str]:
    errors = {}
    if not title.strip():
        errors["title"] = "Enter a title."
    if not body.strip():
        errors["body"] = "Enter the text."
    return errors
