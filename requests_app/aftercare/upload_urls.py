"""The patient's physician sends records through their report's link (issue 21):
under /shared/<token>/, which every log already keeps the token out of."""

from django.urls import path

from . import upload_views as physician_views  # the pages of the upload

app_name = "physician_records"
urlpatterns = [
    path("shared/<str:token>/records/", physician_views.physician_upload, name="upload"),
    path("shared/<str:token>/records/slots/", physician_views.physician_slots, name="slots"),
    path(
        "shared/<str:token>/records/files/<uuid:file_ref>/sign/",
        physician_views.physician_sign,
        name="sign",
    ),
    path(
        "shared/<str:token>/records/<uuid:record_ref>/confirm/",
        physician_views.physician_confirm,
        name="confirm",
    ),
    path(
        "shared/<str:token>/records/<uuid:record_ref>/cancel/",
        physician_views.physician_cancel,
        name="cancel",
    ),
]
