from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import views

admin.site.site_header = _("SecondOp administration")
admin.site.site_title = _("SecondOp admin")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("language/", views.language, name="language"),
    path("hooks/mail/bounces", views.mail_bounce, name="mail_bounce"),
    path("accounts/", include("allauth.urls")),
    path("home/", include("secondop.accounts.urls")),
    path("notifications/", include("secondop.notifications.urls")),
    path("requests/", include("requests_app.urls")),
    path("records/", include("records.urls")),
    path("records-requests/", include("records.retrieval.urls")),
    path("imaging/", include("records.imaging.urls")),  # the image viewer, "Your scans"
    path("messages/", include("requests_app.messaging.urls")),
    path("consultations/", include("requests_app.consultations.urls")),
    path("reports/", include("requests_app.reports.urls")),
    path("caregivers/", include("requests_app.caregivers.urls")),
    path("", include("requests_app.aftercare.urls")),  # /shared/<token>/ for physicians, ...
    path("", include("requests_app.aftercare.upload_urls")),  # /shared/<token>/records/
    path("", include("requests_app.consultations.physician_urls")),  # /doctor-call/<token>/
    path("", include("requests_app.outcomes.urls")),  # /outcomes/: public figures, answers
    path("specialist/", include("specialists.urls")),
    path("specialists/", include("specialists.directory_urls")),  # the public directory
    path("credentialing/", include("specialists.credentialing_urls")),  # administrators
    path("admin/", admin.site.urls),
]

handler400 = "secondop.views.error_400"
handler403 = "secondop.views.error_403"
handler404 = "secondop.views.error_404"
handler500 = "secondop.views.error_500"
