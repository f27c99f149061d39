from django.urls import path

from . import views

app_name = "caregivers"
urlpatterns = [
    path("", views.caregiver_list, name="list"),
    path("<uuid:caregiver_ref>/", views.caregiver_change, name="change"),
    path("<uuid:caregiver_ref>/remove/", views.caregiver_revoke, name="revoke"),
    path("accept/<str:token>/", views.caregiver_accept, name="accept"),
    path("follow/<uuid:ref>/", views.caregiver_case, name="case"),
]
