from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("case/<uuid:ref>/", views.thread, name="thread"),
]
