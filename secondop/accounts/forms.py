from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Role


class SignupForm(forms.Form):
    """Extra fields on allauth's sign-up form. Sign-up makes patients only."""

    full_name = forms.CharField(
        label=_("Your full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["full_name", "email", "password1", "password2"]

    def signup(self, request, user) -> None:
        user.full_name = self.cleaned_data["full_name"].strip()
        user.role = Role.PATIENT
        user.save(update_fields=["full_name", "role"])


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(r.value, r.label) for r in (Role.COORDINATOR, Role.SPECIALIST, Role.ADMIN)],
    )

    def clean_email(self) -> str:
        from .models import User

        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("Someone already has an account with this email address.")
            )
        return email


def _zone_choices():
    from secondop.timezones import iana_zones

    return [("", _("Choose your time zone"))] + [
        (name, name.replace("_", " ")) for name in iana_zones()
    ]


class TimeZoneForm(forms.Form):
    """The zone a staff member reads times in: only a name from the IANA list."""

    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        help_text=_(
            "Every date and time SecondOp shows you is in this zone, and names it "
            "(for example EST)."
        ),
        choices=_zone_choices,
        error_messages={
            "required": _("Choose your time zone from the list"),
            "invalid_choice": _(
                "“%(value)s” is not a time zone we know. Choose your time "
                "zone from the list, for example America/New York."
            ),
        },
    )
