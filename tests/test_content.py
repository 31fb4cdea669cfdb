"""Announcements and the knowledge base: written by staff, listed for customers."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from supportdesk import (
    Announcement,
    Article,
    ArticleKind,
    Audience,
    NotFound,
    PermissionDenied,
    ValidationError,
    from_data,
    to_data,
)

from .conftest import Portal

DAY = timedelta(days=1)


def test_announcement_lifecycle(portal: Portal) -> None:
    desk, now = portal.desk, portal.clock.now()
    saved = desk.save_announcement(
        portal.agent, Announcement(title="Maintenance", body="Saturday 2-4am.")
    )
    assert (saved.active_from, saved.created_at, saved.updated_at) == (now, now, now)
    assert saved.author_id == portal.agent.id
    assert desk.list_announcements(portal.alice) == [saved]

    portal.clock.advance(timedelta(hours=1))
    changed = desk.save_announcement(
        portal.admin, attrs.evolve(saved, body="Sunday 2-4am.", active_until=now + DAY)
    )
    assert (changed.created_at, changed.author_id) == (now, portal.agent.id)
    assert changed.updated_at == portal.clock.now()
    assert desk.list_announcements(portal.alice) == [changed]

    portal.clock.advance(DAY)
    assert desk.list_announcements(portal.alice) == []
    assert desk.list_announcements(portal.agent) == []
    assert desk.list_announcements(portal.agent, include_inactive=True) == [changed]
    assert desk.list_announcements(portal.alice, include_inactive=True) == []

    desk.delete_announcement(portal.agent, saved.id)
    assert desk.list_announcements(portal.agent, include_inactive=True) == []
    with pytest.raises(NotFound):
        desk.delete_announcement(portal.agent, saved.id)
    assert from_data(to_data(changed), Announcement) == changed


def test_announcement_audiences(portal: Portal) -> None:
    desk = portal.desk
    for audience in Audience:
        desk.save_announcement(
            portal.admin, Announcement(title=audience.value, body="b", audience=audience)
        )
    customers = {a.title for a in desk.list_announcements(portal.alice)}
    assert customers == {"everyone", "customers"}
    assert {a.title for a in desk.list_announcements(portal.agent)} == set(Audience)


def test_announcement_rules(portal: Portal) -> None:
    with pytest.raises(PermissionDenied):
        portal.desk.save_announcement(portal.alice, Announcement(title="Hi", body="b"))
    with pytest.raises(PermissionDenied):
        portal.desk.delete_announcement(portal.alice, "x")
    start = portal.clock.now()
    with pytest.raises(ValidationError) as caught:
        portal.desk.save_announcement(
            portal.agent,
            Announcement(title=" ", body="", active_from=start, active_until=start),
        )
    assert set(caught.value.errors) == {"title", "body", "active_until"}
    assert portal.desk.list_announcements(portal.agent, include_inactive=True) == []


def test_knowledge_base(portal: Portal) -> None:
    desk = portal.desk
    draft = desk.save_article(
        portal.agent,
        Article(title="Uploading claims", body="Use SFTP.", tags=(" claims ", "sftp")),
    )
    faq = desk.save_article(
        portal.agent,
        Article(
            kind=ArticleKind.FAQ,
            title="How do I reset my password?",
            body="Use the link on the login page.",
            published=True,
        ),
    )
    assert draft.tags == ("claims", "sftp")
    assert (draft.author_id, draft.created_at) == (portal.agent.id, portal.clock.now())
    assert desk.list_articles(portal.alice) == [faq]
    assert desk.list_articles(portal.agent) == [faq, draft]
    assert desk.list_articles(portal.agent, kind=ArticleKind.FAQ) == [faq]
    assert desk.list_articles(portal.agent, tag="SFTP") == [draft]
    with pytest.raises(NotFound):
        desk.get_article(portal.alice, draft.id)
    assert desk.get_article(portal.agent, draft.id) == draft

    portal.clock.advance(DAY)
    published = desk.save_article(portal.admin, attrs.evolve(draft, published=True))
    assert (published.created_at, published.author_id) == (draft.created_at, portal.agent.id)
    assert published.updated_at == portal.clock.now()
    assert desk.get_article(portal.alice, draft.id) == published
    assert desk.list_articles(portal.alice, tag="claims") == [published]

    desk.delete_article(portal.agent, faq.id)
    with pytest.raises(NotFound):
        desk.get_article(portal.agent, faq.id)
    with pytest.raises(NotFound):
        desk.delete_article(portal.agent, faq.id)
    assert from_data(to_data(published), Article) == published


def test_knowledge_base_rules(portal: Portal) -> None:
    with pytest.raises(PermissionDenied):
        portal.desk.save_article(portal.alice, Article(title="Mine", body="b", published=True))
    with pytest.raises(PermissionDenied):
        portal.desk.delete_article(portal.bob, "x")
    with pytest.raises(ValidationError) as caught:
        portal.desk.save_article(portal.agent, Article(title="", body=" ", tags=("ok", " ")))
    assert set(caught.value.errors) == {"title", "body", "tags"}
    assert portal.desk.list_articles(portal.agent) == []
