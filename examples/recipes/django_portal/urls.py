"""The URLs of the Django recipe."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("requests", views.requests),
    path("requests/<str:reference>", views.view_request),
    path("requests/<str:reference>/updates", views.share_update),
]
