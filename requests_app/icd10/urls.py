from django.urls import path

from . import views

# Included by requests_app/urls.py, in its namespace: the search keeps its path
# (/requests/icd10/search/) and its name (requests_app:icd10_search).
urlpatterns = [
    path("search/", views.icd10_search_view, name="icd10_search"),
]
