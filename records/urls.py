from django.urls import path

from . import views

app_name = "records"
urlpatterns = [
    path("case/<uuid:ref>/", views.case_records, name="case_records"),
    path("case/<uuid:ref>/slots/", views.record_slots, name="slots"),
    path("case/<uuid:ref>/state/", views.record_states, name="states"),
    path("case/<uuid:ref>/smart-link/", views.smart_link, name="smart_link"),
    path("case/<uuid:ref>/ask/", views.request_create, name="request_create"),
    path("case/<uuid:ref>/bundle/", views.bundle_create, name="bundle_create"),
    path("files/<uuid:file_ref>/sign/", views.file_sign, name="file_sign"),
    path("upload/<str:token>/", views.file_upload, name="file_upload"),
    path("<uuid:record_ref>/", views.record_detail, name="detail"),
    path("<uuid:record_ref>/confirm/", views.record_confirm, name="confirm"),
    path("<uuid:record_ref>/cancel/", views.record_cancel, name="cancel"),
    path("<uuid:record_ref>/download/", views.record_download, name="download"),
    path(
        "<uuid:record_ref>/files/<uuid:file_ref>/download/",
        views.record_file_download,
        name="file_download",
    ),
    path("<uuid:record_ref>/thumbnail/", views.record_thumbnail, name="thumbnail"),
    path(
        "<uuid:record_ref>/series/<int:number>/thumbnail/",
        views.record_thumbnail,
        name="series_thumbnail",
    ),
    path("<uuid:record_ref>/delete/", views.record_delete, name="delete"),
    path("<uuid:record_ref>/dismiss/", views.record_dismiss, name="dismiss"),
    path("<uuid:record_ref>/identity/", views.record_identity, name="identity"),
    path(
        "<uuid:record_ref>/identity/remove/",
        views.record_identity_remove,
        name="identity_remove",
    ),
    path("asked/<uuid:request_ref>/withdraw/", views.request_cancel, name="request_cancel"),
    path("bundles/<uuid:bundle_ref>/", views.bundle_detail, name="bundle"),
    path("bundles/<uuid:bundle_ref>/download/", views.bundle_download, name="bundle_download"),
]
