"""Django settings for the peer, django-helpdesk 2.6.1, as the benchmark runs it: SQLite, no web."""

import os

SECRET_KEY = "benchmark-only"  # noqa: S105 (never served)
DEBUG = False
USE_TZ = True
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.messages",
    "django.contrib.admin",
    "rest_framework",
    "account",
    "pinax.invitations",
    "pinax.teams",
    "helpdesk",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["PEER_DATABASE"],
        # The same settings as the library's SQLite: WAL, synchronous=NORMAL.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        },
    }
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "help@portal.test"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ROOT_URLCONF = "benchmarks.peer.urls"
HELPDESK_PUBLIC_TICKET_QUEUE = "help"
HELPDESK_PUBLIC_TICKET_PRIORITY = 3
HELPDESK_PUBLIC_TICKET_DUE_DATE = None
LOGGING = {"version": 1, "disable_existing_loggers": True}
