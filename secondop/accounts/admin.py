from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .forms import StaffInviteForm
from .models import User
from .services import staff_invite


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "full_name", "role", "is_active"]}),
        (gettext_lazy("Django admin"), {"fields": ["is_staff", "is_superuser", "groups"]}),
        (gettext_lazy("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "full_name", "role", "password1", "password2"]})]
    change_list_template = "admin/accounts/user/change_list.html"

    def get_urls(self):
        return [
            path("invite/", self.admin_site.admin_view(self.invite_view),
                 name="accounts_user_invite"),
            *super().get_urls(),
        ]

    def invite_view(self, request):
        form = StaffInviteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            user = staff_invite(actor=request.user, request=request, **form.cleaned_data)
            messages.success(request, _("An invitation was emailed to %(email)s.") % {"email": user.email})
            return redirect("admin:accounts_user_changelist")
        context = {**self.admin_site.each_context(request), "form": form,
                   "title": _("Invite a staff member"), "opts": self.model._meta}
        return render(request, "admin/accounts/user/invite.html", context)
