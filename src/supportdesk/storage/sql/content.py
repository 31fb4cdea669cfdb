"""The SQL content: announcements and knowledge-base articles, kept in the search index."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from ..._models import Announcement, Article, ArticleKind, Audience, SearchKind
from ...search import TAG_WEIGHT, TITLE_WEIGHT
from . import rows
from ._transaction import Repository, by_id, upsert_by_id
from .schema import announcements, articles

GET_ANNOUNCEMENT = by_id(announcements)
DELETE_ANNOUNCEMENT = announcements.delete().where(announcements.c.id == sa.bindparam("id"))
GET_ARTICLE = by_id(articles)
DELETE_ARTICLE = articles.delete().where(articles.c.id == sa.bindparam("id"))


def active_clause(now: datetime) -> ColumnElement[bool]:
    """The announcements shown at ``now``: started (or open-ended) and not yet over."""
    return sa.and_(
        sa.or_(announcements.c.active_from.is_(None), announcements.c.active_from <= now),
        sa.or_(announcements.c.active_until.is_(None), announcements.c.active_until > now),
    )


class SqlContent(Repository):
    """Announcements and articles in SQL, each indexed for search as it is put."""

    def put_announcement(self, announcement: Announcement) -> None:
        statement = upsert_by_id(self._tx.dialect_name, announcements)
        self._tx.execute(statement, rows.ANNOUNCEMENTS.row(announcement))
        self._tx.index(
            SearchKind.ANNOUNCEMENT,
            announcement.id,
            rows.Searchable("title", announcement.title, TITLE_WEIGHT),
            rows.Searchable("body", announcement.body),
        )

    def get_announcement(self, announcement_id: str) -> Announcement | None:
        return self._tx.one(rows.ANNOUNCEMENTS, GET_ANNOUNCEMENT, id=announcement_id)

    def remove_announcement(self, announcement_id: str) -> bool:
        return self._remove(SearchKind.ANNOUNCEMENT, DELETE_ANNOUNCEMENT, announcement_id)

    def list_announcements(
        self, *, active_at: datetime | None = None, audiences: Collection[Audience] | None = None
    ) -> Sequence[Announcement]:
        statement = sa.select(announcements).order_by(
            announcements.c.active_from.desc().nulls_last(), announcements.c.id.desc()
        )
        if active_at is not None:
            statement = statement.where(active_clause(active_at))
        if audiences is not None:
            wanted = sorted(audience.value for audience in audiences)
            statement = statement.where(announcements.c.audience.in_(wanted))
        return self._tx.all(rows.ANNOUNCEMENTS, statement)

    def put_article(self, article: Article) -> None:
        self._tx.execute(upsert_by_id(self._tx.dialect_name, articles), rows.ARTICLES.row(article))
        self._tx.index(
            SearchKind.ARTICLE,
            article.id,
            rows.Searchable("title", article.title, TITLE_WEIGHT),
            rows.Searchable("body", article.body),
            rows.Searchable("tags", " ".join(article.tags), TAG_WEIGHT),
        )

    def get_article(self, article_id: str) -> Article | None:
        return self._tx.one(rows.ARTICLES, GET_ARTICLE, id=article_id)

    def remove_article(self, article_id: str) -> bool:
        return self._remove(SearchKind.ARTICLE, DELETE_ARTICLE, article_id)

    def _remove(self, kind: SearchKind, delete: Executable, target_id: str) -> bool:
        """Delete the row with ``delete`` and unindex it; False when there was none."""
        self._tx.unindex(kind, target_id)
        return self._tx.execute(delete, {"id": target_id}).rowcount == 1

    def list_articles(
        self, *, published_only: bool, kind: ArticleKind | None = None, tag: str | None = None
    ) -> Sequence[Article]:
        statement = sa.select(articles)
        if published_only:
            statement = statement.where(articles.c.published == sa.true())
        if kind is not None:
            statement = statement.where(articles.c.kind == kind.value)
        found = self._tx.all(rows.ARTICLES, statement)
        # Tags and titles compare by Python's casefold(), which SQL's lower()
        # does not match beyond ASCII; a knowledge base is small enough.
        if tag is not None:
            wanted = tag.casefold()
            found = [a for a in found if any(t.casefold() == wanted for t in a.tags)]
        return sorted(found, key=lambda article: (article.title.casefold(), article.id))
