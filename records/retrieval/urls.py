from django.urls import path

from . import views

app_name = "retrieval"
urlpatterns = [
    path("case/<uuid:ref>/", views.sources, name="sources"),
    path("<uuid:source_ref>/", views.source, name="source"),
    path("<uuid:source_ref>/edit/", views.source_edit, name="edit"),
    path("<uuid:source_ref>/remove/", views.source_remove, name="remove"),
    path("<uuid:source_ref>/sign/", views.source_sign, name="sign"),
    path("<uuid:source_ref>/letter.pdf", views.source_letter, name="letter"),
    path("<uuid:source_ref>/send/", views.source_send, name="send"),
    path("<uuid:source_ref>/extend/", views.source_extend, name="extend"),
    path("<uuid:source_ref>/received/", views.source_received, name="received"),
]
