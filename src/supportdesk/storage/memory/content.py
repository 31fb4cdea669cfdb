"""The memory store's content: announcements and articles, indexed for search as they are put."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime

from ..._models import Announcement, Article, ArticleKind, Audience, SearchKind
from ...search import TAG_WEIGHT, TITLE_WEIGHT, IndexedText, SearchIndex
from ._changes import Area, Changes, V

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ContentTables:
    """Announcements and articles by id."""

    def __init__(self) -> None:
        self.announcements: dict[str, Announcement] = {}
        self.articles: dict[str, Article] = {}


class MemoryContent(Area[ContentTables]):
    """The content area of a :class:`~.store.MemoryUnitOfWork`; writes the search index."""

    def __init__(self, tables: ContentTables, changes: Changes, *, index: SearchIndex) -> None:
        super().__init__(tables, changes)
        self._search_index = index

    def _index(
        self, kind: SearchKind, target_id: str, field: str, text: str, *, weight: float = 1.0
    ) -> None:
        indexed = IndexedText.of(kind, target_id, text, weight=weight)
        self._changes.index(self._search_index, (kind.value, target_id, field), indexed)

    def _remove(
        self, table: dict[str, V], kind: SearchKind, target_id: str, fields: Iterable[str]
    ) -> bool:
        """Delete ``target_id`` from ``table`` and the index; False when it was not there."""
        if target_id not in table:
            return False
        self._changes.delete(table, target_id)
        for field in fields:
            self._changes.index(self._search_index, (kind.value, target_id, field), None)
        return True

    def put_announcement(self, announcement: Announcement) -> None:
        self._changes.set(self._tables.announcements, announcement.id, announcement)
        kind = SearchKind.ANNOUNCEMENT
        self._index(kind, announcement.id, "title", announcement.title, weight=TITLE_WEIGHT)
        self._index(kind, announcement.id, "body", announcement.body)

    def get_announcement(self, announcement_id: str) -> Announcement | None:
        return self._tables.announcements.get(announcement_id)

    def remove_announcement(self, announcement_id: str) -> bool:
        table = self._tables.announcements
        return self._remove(table, SearchKind.ANNOUNCEMENT, announcement_id, ("title", "body"))

    def list_announcements(
        self, *, active_at: datetime | None = None, audiences: Collection[Audience] | None = None
    ) -> Sequence[Announcement]:
        found = [
            a
            for a in self._tables.announcements.values()
            if (active_at is None or a.is_active(active_at))
            and (audiences is None or a.audience in audiences)
        ]
        return sorted(found, key=lambda a: (a.active_from or _EPOCH, a.id), reverse=True)

    def put_article(self, article: Article) -> None:
        self._changes.set(self._tables.articles, article.id, article)
        kind = SearchKind.ARTICLE
        self._index(kind, article.id, "title", article.title, weight=TITLE_WEIGHT)
        self._index(kind, article.id, "body", article.body)
        self._index(kind, article.id, "tags", " ".join(article.tags), weight=TAG_WEIGHT)

    def get_article(self, article_id: str) -> Article | None:
        return self._tables.articles.get(article_id)

    def remove_article(self, article_id: str) -> bool:
        fields = ("title", "body", "tags")
        return self._remove(self._tables.articles, SearchKind.ARTICLE, article_id, fields)

    def list_articles(
        self, *, published_only: bool, kind: ArticleKind | None = None, tag: str | None = None
    ) -> Sequence[Article]:
        wanted = None if tag is None else tag.casefold()
        found = [
            a
            for a in self._tables.articles.values()
            if (a.published or not published_only)
            and (kind is None or a.kind is kind)
            and (wanted is None or wanted in {t.casefold() for t in a.tags})
        ]
        return sorted(found, key=lambda a: (a.title.casefold(), a.id))
