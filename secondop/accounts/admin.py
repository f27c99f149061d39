from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .forms import StaffInviteForm
from .models import User
from .services import AccountChangeError, staff_invite, user_change_role, user_set_active


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Accounts, changed only through audited services: a role, active or not.

    Nobody is deleted (deactivation replaces it), nobody is added here (staff
    are invited, patients sign up), and no administrator sets anyone's password:
    people set their own through the emailed link."""

    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "full_name", "role", "is_active"]}),
        (gettext_lazy("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["email", "full_name", "last_login", "date_joined"]
    change_list_template = "admin/accounts/user/change_list.html"
    actions = None

    def get_urls(self):
        return [
            path(
                "invite/", self.admin_site.admin_view(self.invite_view), name="accounts_user_invite"
            ),
            *super().get_urls(),
        ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def user_change_password(self, request, id, form_url=""):
        raise Http404

    def save_model(self, request, obj, form, change):
        """Each change goes through its service, which audits it; nothing else is saved."""
        try:
            if "role" in form.changed_data:
                user_change_role(actor=request.user, user_id=obj.pk, role=obj.role)
            if "is_active" in form.changed_data:
                user_set_active(actor=request.user, user_id=obj.pk, active=obj.is_active)
        except AccountChangeError as error:
            messages.error(request, error.message)

    def save_related(self, request, form, formsets, change):
        pass  # no related objects are edited here

    def invite_view(self, request):
        form = StaffInviteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            user = staff_invite(actor=request.user, **form.cleaned_data)
            messages.success(
                request, _("An invitation was emailed to %(email)s.") % {"email": user.email}
            )
            return redirect("admin:accounts_user_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Invite a staff member"),
            "opts": self.model._meta,
        }
        return render(request, "admin/accounts/user/invite.html", context)


# The admin manages users, specialties and specialist profiles (DESIGN.md). Email
# addresses, authenticators (their secrets) and sessions change only through
# each person's own account pages; groups are not used (roles are).
for _model in (EmailAddress, Authenticator, UserSession, Group):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
