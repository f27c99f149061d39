"""The patient's doctor's page for a call with the specialist: no account, the token
is the credential (/doctor-call/<token>/, kept out of every log: secondop.logging_filters)."""

from django.urls import path

from . import doctor_call_views

app_name = "doctor_call"
urlpatterns = [
    path("doctor-call/<str:token>/", doctor_call_views.physician_call, name="physician"),
    path(
        "doctor-call/<str:token>/calendar.ics",
        doctor_call_views.physician_call_calendar,
        name="calendar",
    ),
]
