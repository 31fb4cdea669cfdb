"""The app config: one SupportDesk per process, opened and seeded when Django starts."""

from __future__ import annotations

from django.apps import AppConfig, apps
from django.conf import settings

from supportdesk import SupportDesk

from ..seed import seed


class PortalConfig(AppConfig):
    """Holds the process's desk; every request thread shares it (it is thread-safe)."""

    name = "examples.recipes.django_portal"
    label = "portal"
    desk: SupportDesk

    def ready(self) -> None:
        self.desk = SupportDesk.from_url(settings.SUPPORTDESK_URL, create=True)
        seed(self.desk)


def desk() -> SupportDesk:
    """The process's desk."""
    config = apps.get_app_config("portal")
    assert isinstance(config, PortalConfig)
    return config.desk
