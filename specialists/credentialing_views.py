"""The administrators' credentialing page: licences waiting to be verified,
verified ones expiring within 60 days, and refused ones. Anyone but an
administrator gets a 404, as in the Django admin."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from secondop.accounts.models import Role

from . import credentialing
from .models import LicenceSource


class VerifyForm(forms.Form):
    licence = forms.IntegerField(widget=forms.HiddenInput)
    source = forms.ChoiceField(
        label=gettext_lazy("Where you checked it"),
        choices=[("", gettext_lazy("Choose a source")), *LicenceSource.choices],
        error_messages={"required": gettext_lazy("Choose where you checked the licence.")})
    note = forms.CharField(label=gettext_lazy("Note (optional)"), required=False,
                           max_length=1000,
                           help_text=gettext_lazy("For example: active, no actions, checked "
                                                  "against the number and name."))


class RefuseForm(forms.Form):
    licence = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("What the source showed"), max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Say what the source showed: the specialist "
                                                 "reads it.")})


def _admin(request) -> None:
    if request.user.role != Role.ADMIN:
        raise Http404


def _page(request, *, forms_by_licence=None, status=200):
    forms_by_licence = forms_by_licence or {}
    waiting = [(licence, *forms_by_licence.get(licence.pk, (
        VerifyForm(initial={"licence": licence.pk}, prefix=f"v{licence.pk}"),
        RefuseForm(initial={"licence": licence.pk}, prefix=f"r{licence.pk}"))))
        for licence in credentialing.licences_waiting()[:200]]
    context = {"waiting": waiting, "expiring": credentialing.licences_expiring()[:200],
               "refused": credentialing.licences_refused()[:200],
               "today": timezone.localdate()}
    return render(request, "specialists/credentialing/home.html", context, status=status)


@login_required
def home(request):
    _admin(request)
    return _page(request)


def _answer(request, form_class, prefix_letter, act):
    _admin(request)
    licence_id = request.POST.get("licence", "")
    prefix = f"{prefix_letter}{licence_id}" if licence_id.isdigit() else prefix_letter
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items() if hasattr(
                    error, "error_dict") else [(None, error.messages)]:
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return None
    if not licence_id.isdigit():
        messages.error(request, _("Choose a licence from the list."))
        return redirect("credentialing:home")
    other = (RefuseForm(initial={"licence": licence_id}, prefix=f"r{licence_id}")
             if form_class is VerifyForm else
             VerifyForm(initial={"licence": licence_id}, prefix=f"v{licence_id}"))
    pair = (form, other) if form_class is VerifyForm else (other, form)
    return _page(request, forms_by_licence={int(licence_id): pair}, status=400)


@require_POST
@login_required
def verify(request):
    response = _answer(request, VerifyForm, "v", lambda data: credentialing.licence_verify(
        actor=request.user, licence_id=data["licence"], source=data["source"],
        note=data["note"], request=request))
    if response is not None:
        return response
    messages.success(request, _("The licence is verified. It counts for matching from now on, "
                                "and the specialist is told."))
    return redirect("credentialing:home")


@require_POST
@login_required
def refuse(request):
    response = _answer(request, RefuseForm, "r", lambda data: credentialing.licence_refuse(
        actor=request.user, licence_id=data["licence"], note=data["note"], request=request))
    if response is not None:
        return response
    messages.success(request, _("The licence is refused. The specialist is told why, and open "
                                "offers in that state go back to matching."))
    return redirect("credentialing:home")
