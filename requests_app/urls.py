from django.urls import path

from . import icd10_views, views

app_name = "requests_app"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("start/", views.case_start, name="case_start"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/section/<slug:key>/", views.case_section, name="case_section"),
    path("<int:pk>/check/", views.case_check, name="case_check"),
    path("<int:pk>/submit/", views.case_submit, name="case_submit"),
    path("<int:pk>/withdraw/", views.case_withdraw, name="case_withdraw"),
    path("icd10/search/", icd10_views.icd10_search_view, name="icd10_search"),
    path("coordinator/", views.coordinator_home, name="coordinator_home"),
]
