from django.urls import path

from . import views

app_name = "specialists"
urlpatterns = [
    path("", views.home, name="home"),
]
