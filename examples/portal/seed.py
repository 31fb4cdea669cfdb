"""The portal's data: both portals of the design, seeded once, the same however often it runs."""

from __future__ import annotations

from datetime import timedelta

from supportdesk import (
    Announcement,
    Article,
    ArticleKind,
    Contact,
    DeskOptions,
    Organization,
    Role,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
    SupportDesk,
)

from ..quickstart import JSM, OFFICE, build_case_portal, build_jira_portal, portal_signup

PASSWORD = "portal-demo-password"
"""Every seeded account's password."""


SLA = tuple(
    SlaPolicy(
        desk=key,
        targets=(
            SlaTarget(metric=SlaMetric.FIRST_RESPONSE, within=timedelta(hours=4)),
            SlaTarget(metric=SlaMetric.RESOLUTION, within=timedelta(days=2)),
        ),
    )
    for key in ("CSD", "HHA")
)
"""The JSM-like desks' targets, on their office hours."""


def options() -> DeskOptions:
    """The desk's configuration: the JSM-like desks' workflow and hours, the case sign-up."""
    return {
        "workflows": {"jsm": JSM},
        "calendars": {"office": OFFICE},
        "signup_policy": portal_signup(),
        "sla_policies": SLA,
    }


PEOPLE = (
    ("alice@acme.test", "Alice Payer", Role.CUSTOMER),
    ("bob@acme.test", "Bob Payer", Role.CUSTOMER),
    ("agent@portal.test", "Sam Agent", Role.AGENT),
)


def seed(desk: SupportDesk) -> None:
    """Create the desks, request types and people unless they are there already."""
    admin = _admin(desk)
    if not desk.list_desks(admin):
        build_jira_portal(desk)
        build_case_portal(desk)
        desk.save_announcement(
            admin,
            Announcement(
                id="maintenance",
                title="Scheduled maintenance on Saturday",
                body="The claims portal is down from 8 to 10 am.",
            ),
        )
        desk.save_article(
            admin,
            Article(
                id="sftp-setup",
                title="Setting up SFTP for claim files",
                body="Use port 22 and the key from your welcome letter.",
                published=True,
            ),
        )
        desk.save_article(
            admin,
            Article(
                id="faq-reset",
                kind=ArticleKind.FAQ,
                title="How do I reset my password?",
                body='Use "Forgot your password?" on the login page.',
                published=True,
            ),
        )
    acme = _organization(desk)
    desk_ids = frozenset(d.id for d in desk.list_desks(admin))
    for email, name, role in PEOPLE:
        try:
            desk.find_contact(email)
        except LookupError:
            staff = role is not Role.CUSTOMER
            contact = desk.add_contact(
                Contact(
                    email=email,
                    full_name=name,
                    role=role,
                    organization_id=None if staff else acme,
                    desk_ids=desk_ids if staff else frozenset(),
                )
            )
            desk.set_password(contact, PASSWORD)


def _admin(desk: SupportDesk) -> Contact:
    try:
        return desk.find_contact("admin@portal.test")
    except LookupError:
        admin = desk.add_contact(
            Contact(email="admin@portal.test", full_name="Ada Admin", role=Role.ADMIN)
        )
        desk.set_password(admin, PASSWORD)
        return admin


def _organization(desk: SupportDesk) -> str:
    """The customers' organisation: its id is fixed, so a second run finds it."""
    return desk.add_organization(Organization(id="org-acme", name="Acme Health Plan")).id
