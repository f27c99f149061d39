from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("time-zone/", views.time_zone, name="time_zone"),
    path("time-zone/browser/", views.time_zone_from_browser, name="time_zone_from_browser"),
]
