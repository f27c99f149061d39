"""Included at the site root: every route carries its own prefix. `aftercare/`
for signed-in people; `shared/<token>/` for the physician a patient sent their
report to (no account)."""

from django.urls import path

from . import views

app_name = "aftercare"
urlpatterns = [
    path("aftercare/<uuid:ref>/share/", views.share, name="share"),
    path("aftercare/<uuid:ref>/share/printed/", views.share_printed, name="share_printed"),
    path("aftercare/shares/<uuid:share_ref>/revoke/", views.share_revoke, name="share_revoke"),
    path("aftercare/<uuid:ref>/follow-up/", views.follow_up, name="follow_up"),
    path(
        "aftercare/follow-up/<uuid:question_ref>/answer/",
        views.follow_up_answer,
        name="follow_up_answer",
    ),
    path(
        "aftercare/shares/<uuid:share_ref>/participation/withdraw/",
        views.participation_withdraw,
        name="participation_withdraw",
    ),
    path(
        "aftercare/physician-question/<uuid:question_ref>/answer/",
        views.physician_answer,
        name="physician_answer",
    ),
    path("aftercare/<uuid:ref>/rating/", views.rating, name="rating"),
    path("aftercare/concordance/", views.concordance, name="concordance"),
    path("shared/<str:token>/", views.shared_report, name="shared_report"),
    path("shared/<str:token>/call/", views.shared_call_request, name="shared_call_request"),
    path("shared/<str:token>/pdf/", views.shared_report_pdf, name="shared_report_pdf"),
    path("shared/<str:token>/fhir/", views.shared_report_fhir, name="shared_report_fhir"),
    path("shl/<str:token>", views.smart_link_manifest, name="smart_link_manifest"),
]
