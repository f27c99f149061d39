from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .models import Role


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # Self sign-up only ever makes patients; staff are invited (services.staff_invite).
        user.role = Role.PATIENT
        user.is_staff = False
        user.is_superuser = False
        user.full_name = form.cleaned_data.get("full_name", "").strip()
        return super().save_user(request, user, form, commit=commit)

    def get_login_redirect_url(self, request):
        return reverse("accounts:home")
