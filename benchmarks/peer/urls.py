"""The peer's URLs: its own, so that the links in its e-mails resolve."""

from django.urls import include, path

urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
