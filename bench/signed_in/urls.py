"""SecondOp's URLs and the signed-in floor, at /bench/signed-in-floor/ (bench.settings)."""

from django.urls import include, path

from . import FLOOR_PATH, views

urlpatterns = [
    path(FLOOR_PATH.strip("/") + "/", views.floor),
    path("", include("secondop.urls")),
]
