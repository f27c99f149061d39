from django.urls import path

from . import doctor_call_views, views

app_name = "consultations"
urlpatterns = [
    path("case/<uuid:ref>/new/", views.consultation_new, name="new"),
    path("case/<uuid:ref>/decline/", views.consultation_decline, name="decline"),
    path("<uuid:consultation_ref>/", views.consultation_detail, name="detail"),
    path("<uuid:consultation_ref>/choose/", views.consultation_choose, name="choose"),
    path(
        "<uuid:consultation_ref>/other-times/", views.consultation_other_times, name="other_times"
    ),
    path("<uuid:consultation_ref>/times/", views.consultation_times, name="times"),
    path("<uuid:consultation_ref>/cancel/", views.consultation_cancel, name="cancel"),
    path(
        "<uuid:consultation_ref>/interpreter/",
        views.consultation_interpreter,
        name="interpreter",
    ),
    path("<uuid:consultation_ref>/outcome/", views.consultation_outcome, name="outcome"),
    path("<uuid:consultation_ref>/calendar.ics", views.consultation_calendar, name="calendar"),
    # A call between the specialist and the patient's own doctor (issue 21).
    path(
        "doctor-call/case/<uuid:ref>/ask/",
        doctor_call_views.doctor_call_ask,
        name="doctor_call_ask",
    ),
    path("doctor-call/<uuid:call_ref>/", doctor_call_views.doctor_call, name="doctor_call"),
    path(
        "doctor-call/<uuid:call_ref>/times/",
        doctor_call_views.doctor_call_times,
        name="doctor_call_times",
    ),
    path(
        "doctor-call/<uuid:call_ref>/outcome/",
        doctor_call_views.doctor_call_outcome,
        name="doctor_call_outcome",
    ),
]
