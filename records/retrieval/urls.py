from django.urls import path

from . import office_views, views

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
    path("<uuid:source_ref>/link/extend/", office_views.link_extend, name="link_extend"),
    path("<uuid:source_ref>/link/revoke/", office_views.link_revoke, name="link_revoke"),
    # A records office's upload page: no account, the token is the credential.
    path("from/<str:token>/", office_views.office, name="office"),
    path("from/<str:token>/slots/", office_views.office_slots, name="office_slots"),
    path(
        "from/<str:token>/files/<uuid:file_ref>/sign/",
        office_views.office_sign,
        name="office_sign",
    ),
    path(
        "from/<str:token>/<uuid:record_ref>/confirm/",
        office_views.office_confirm,
        name="office_confirm",
    ),
    path(
        "from/<str:token>/<uuid:record_ref>/cancel/",
        office_views.office_cancel,
        name="office_cancel",
    ),
]
