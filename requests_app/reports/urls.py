from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("case/<uuid:ref>/", views.report_case, name="case"),
    path("case/<uuid:ref>/write/", views.report_write, name="write"),
    path("case/<uuid:ref>/autosave/", views.report_autosave, name="autosave"),
    path("case/<uuid:ref>/sign/", views.report_sign, name="sign"),
    path("case/<uuid:ref>/amend/", views.report_amend, name="amend"),
    # A blinded third opinion (third_opinion.py): asked on the request whose opinion
    # differs; the opinions side by side and the reconciliation on the third's own.
    path("case/<uuid:ref>/third-opinion/", views.third_opinion_ask, name="third_opinion"),
    path("case/<uuid:ref>/opinions/", views.opinions, name="opinions"),
    path("case/<uuid:ref>/reconcile/", views.reconcile, name="reconcile"),
    path("versions/<uuid:version_ref>/", views.version_detail, name="version"),
    path("versions/<uuid:version_ref>/pdf/", views.version_pdf, name="pdf"),
    path("versions/<uuid:version_ref>/fhir/", views.version_fhir, name="fhir"),
    path("versions/<uuid:version_ref>/release/", views.version_release, name="release"),
    path("versions/<uuid:version_ref>/return/", views.version_return, name="return"),
    # Public: anyone holding a report checks it (no sign-in, rate-limited).
    path("verify/", views.verify, name="verify"),
]
