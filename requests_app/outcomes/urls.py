"""Included at the site root: `outcomes/` is the public page of our figures (no
sign-in); under it, the account holder's own answers for one case."""

from django.urls import path

from . import views

app_name = "outcomes"
urlpatterns = [
    path("outcomes/", views.public, name="public"),
    path("outcomes/<uuid:ref>/sure/before/", views.sure, {"moment": "before"}, name="sure_before"),
    path("outcomes/<uuid:ref>/sure/after/", views.sure, {"moment": "after"}, name="sure_after"),
    path("outcomes/<uuid:ref>/treatment/", views.treatment, name="treatment"),
]
