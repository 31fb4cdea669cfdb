"""The content area: announcements and the knowledge base (articles and FAQs)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from ..._models import Announcement, Article, ArticleKind, Audience


class Content(Protocol):
    """Announcements and articles.  Putting or removing one updates the search index at once."""

    def put_announcement(self, announcement: Announcement) -> None:
        """Insert or replace the announcement with ``announcement.id``."""
        ...

    def get_announcement(self, announcement_id: str) -> Announcement | None:
        """The announcement with that id."""
        ...

    def remove_announcement(self, announcement_id: str) -> bool:
        """Delete the announcement; False when there was none."""
        ...

    def list_announcements(
        self, *, active_at: datetime | None = None, audiences: Collection[Audience] | None = None
    ) -> Sequence[Announcement]:
        """Announcements, newest ``active_from`` first (ties: newest id first).

        ``active_at`` keeps those active at that moment (``active_from <= at
        < active_until``, a None bound being open); ``audiences`` keeps those
        for one of them.
        """
        ...

    def put_article(self, article: Article) -> None:
        """Insert or replace the article with ``article.id``."""
        ...

    def get_article(self, article_id: str) -> Article | None:
        """The article with that id, published or draft."""
        ...

    def remove_article(self, article_id: str) -> bool:
        """Delete the article; False when there was none."""
        ...

    def list_articles(
        self, *, published_only: bool, kind: ArticleKind | None = None, tag: str | None = None
    ) -> Sequence[Article]:
        """Articles by title (case-insensitive), then id; filtered by kind and by a tag they carry.

        Tags compare case-insensitively.
        """
        ...
