"""Settings of the Django recipe; run it with
``python -m django runserver --settings=examples.recipes.django_portal.settings``."""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "recipe-only-never-in-production")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "examples.recipes.django_portal.urls"
INSTALLED_APPS = ["examples.recipes.django_portal.apps.PortalConfig"]
# The JSON API below authenticates by a header, not a cookie, so it needs no
# CSRF middleware; pages with forms and a session cookie do.
MIDDLEWARE = ["examples.recipes.django_portal.views.SupportDeskErrors"]
DATABASES: dict[str, dict[str, str]] = {}  # Django's own ORM is not used here.
USE_TZ = True

SUPPORTDESK_URL = os.environ.get("SUPPORTDESK_URL", "sqlite:///portal.db")
"""Where the portal's data lives; the app config opens (and migrates) it once per process."""
