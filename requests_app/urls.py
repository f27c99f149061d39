from django.urls import include, path

from . import views

app_name = "requests_app"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("start/", views.case_start, name="case_start"),
    path("<uuid:ref>/", views.case_detail, name="case_detail"),
    path("<uuid:ref>/section/<slug:key>/", views.case_section, name="case_section"),
    path("<uuid:ref>/check/", views.case_check, name="case_check"),
    path("<uuid:ref>/submit/", views.case_submit, name="case_submit"),
    path("<uuid:ref>/sent/", views.case_sent, name="case_sent"),
    path("<uuid:ref>/withdraw/", views.case_withdraw, name="case_withdraw"),
    path("<uuid:ref>/fee/", views.case_fee, name="case_fee"),
    path("<uuid:ref>/receipt.pdf", views.case_receipt, name="case_receipt"),
    path("icd10/", include("requests_app.icd10.urls")),
    path("coordinator/", views.coordinator_home, name="coordinator_home"),
    path("care/<uuid:ref>/", views.staff_case, name="staff_case"),
    path("care/<uuid:ref>/claim/", views.staff_case_claim, name="staff_case_claim"),
    path("care/<uuid:ref>/move/", views.staff_case_move, name="staff_case_move"),
    path("care/<uuid:ref>/insurance/", views.staff_case_insurance, name="staff_case_insurance"),
    path("care/<uuid:ref>/fee-waive/", views.staff_case_fee_waive, name="staff_case_fee_waive"),
]
