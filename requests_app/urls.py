from django.urls import path

from . import views

app_name = "requests_app"
urlpatterns = [
    path("coordinator/", views.coordinator_home, name="coordinator_home"),
]
