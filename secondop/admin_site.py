from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import Http404
from django.urls import reverse


class SecondOpAdminSite(admin.AdminSite):
    """The Django admin, for administrators only: signed-in people of any other
    role get a 404, and signing in goes through allauth (and so through MFA)."""

    # The index links to the credentialing page (licences to verify).
    index_template = "admin/secondop_index.html"

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.role == "admin")

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise Http404
            return inner(request, *args, **kwargs)

        return wrapper

    def login(self, request, extra_context=None):
        from django.contrib.auth.views import redirect_to_login

        if request.user.is_authenticated and not self.has_permission(request):
            raise Http404
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))

    def password_change(self, request, extra_context=None):
        # Passwords change through allauth (re-authentication, rate limits, notice).
        from django.shortcuts import redirect

        if request.user.is_authenticated and not self.has_permission(request):
            raise Http404
        return redirect("account_change_password")


class SecondOpAdminConfig(AdminConfig):
    default_site = "secondop.admin_site.SecondOpAdminSite"
