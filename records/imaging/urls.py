from django.urls import path

from . import views

app_name = "imaging"
urlpatterns = [
    path("series/<uuid:series_ref>/", views.viewer, name="viewer"),
    path("series/<uuid:series_ref>/state/", views.state, name="state"),
    path("series/<uuid:series_ref>/preset/", views.preset, name="preset"),
    path(
        "series/<uuid:series_ref>/frames/<slug:preset>/<int:size>/<int:index>/",
        views.frame,
        name="frame",
    ),
    path("case/<uuid:ref>/scans/", views.scans, name="scans"),
]
