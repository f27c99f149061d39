from django.urls import path

from . import directory_views

app_name = "directory"
urlpatterns = [
    path("", directory_views.directory, name="list"),
    path("<uuid:public_id>/", directory_views.specialist_detail, name="detail"),
    path("photos/<str:filename>", directory_views.photo, name="photo"),
]
