"""The content area's contract: announcements and articles."""

from __future__ import annotations

from datetime import timedelta

import attrs

from ..._models import ArticleKind, Audience
from ...storage.protocol import Store
from .base import T0, ContractBase, _announcement, _article


class ContentContract(ContractBase):
    """What every adapter's ``work.content`` must do; one test per promise."""

    def test_announcements_by_window_and_audience(self, store: Store) -> None:
        day = timedelta(days=1)
        past = _announcement("Old", T0 - 2 * day, until=T0 - day)
        current = _announcement("Now", T0 - day)
        staff = _announcement("Staff", T0, audience=Audience.STAFF)
        future = _announcement("Later", T0 + day, until=T0 + 2 * day)
        with store.unit_of_work() as work:
            for announcement in (past, current, staff, future):
                work.content.put_announcement(announcement)
        with store.unit_of_work() as work:
            assert work.content.get_announcement(current.id) == current
            assert work.content.list_announcements() == [future, staff, current, past]
            assert work.content.list_announcements(active_at=T0) == [staff, current]
            customers = {Audience.EVERYONE, Audience.CUSTOMERS}
            assert work.content.list_announcements(active_at=T0, audiences=customers) == [current]
            assert work.content.list_announcements(active_at=T0 + day) == [future, staff, current]
            assert work.content.list_announcements(active_at=T0 + 2 * day) == [staff, current]
            assert work.content.remove_announcement(past.id)
            assert not work.content.remove_announcement(past.id)
            assert work.content.get_announcement(past.id) is None

    def test_articles_by_title_kind_and_tag(self, store: Store) -> None:
        draft = _article("billing cycles", tags=("Billing",), published=False)
        faq = _article("How do I reset my password?", kind=ArticleKind.FAQ, tags=("login",))
        guide = _article("Claims upload guide", tags=("claims", "sftp"))
        with store.unit_of_work() as work:
            for article in (draft, faq, guide):
                work.content.put_article(article)
        with store.unit_of_work() as work:
            assert work.content.get_article(draft.id) == draft
            assert work.content.list_articles(published_only=False) == [draft, guide, faq]
            assert work.content.list_articles(published_only=True) == [guide, faq]
            assert work.content.list_articles(published_only=True, kind=ArticleKind.FAQ) == [faq]
            assert work.content.list_articles(published_only=False, tag="billing") == [draft]
            assert work.content.list_articles(published_only=True, tag="billing") == []
            work.content.put_article(attrs.evolve(draft, published=True))
            assert work.content.list_articles(published_only=True, tag="BILLING") != []
            assert work.content.remove_article(faq.id)
            assert not work.content.remove_article(faq.id)
            assert work.content.get_article(faq.id) is None
