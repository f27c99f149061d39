"""What is done to a sent case: the patient withdraws it or confirms the fee; a
coordinator filters the queue, claims the case, moves it, checks the insurance,
lets matching go ahead without the fee's confirmation."""

from django import forms
from django.utils.translation import gettext_lazy as _

from requests_app.fees import money
from requests_app.models import MAX_FEE, OPEN_STATES, Case, CaseStatus, InsuranceStatus, Urgency
from requests_app.workflow import REASON_REQUIRED
from secondop.forms import CharacterCountMixin
from specialists.models import Specialty


# --- Patients ---------------------------------------------------------------------
class WithdrawForm(CharacterCountMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why are you withdrawing it?"),
        max_length=2000,
        widget=forms.Textarea,
        help_text=_(
            "This helps us improve. For example: “I decided on my treatment” or “My own "
            "doctor answered my questions”."
        ),
        error_messages={"required": _("Tell us why you are withdrawing the request.")},
    )


class FeeConfirmForm(forms.Form):
    """The patient confirms the fee shown; `fee` is the amount their page showed."""

    fee = forms.DecimalField(widget=forms.HiddenInput, max_digits=8, decimal_places=2)
    agree = forms.BooleanField(
        label=_("I understand this fee and I want to go ahead"),
        error_messages={"required": _("Tick the box to confirm the fee.")},
    )


# --- Coordinators ---------------------------------------------------------------------
class QueueFilterForm(forms.Form):
    """The coordinator's queue: what to show and in which order (GET)."""

    q = forms.CharField(label=_("Reference or patient's name"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False)
    urgency = forms.ChoiceField(
        label=_("Urgency"), required=False, choices=[("", _("Any")), *Urgency.choices]
    )
    specialty = forms.ModelChoiceField(
        label=_("Specialty"),
        required=False,
        queryset=Specialty.objects.order_by("name"),
        empty_label=_("Any"),
    )
    mine = forms.BooleanField(label=_("Mine (I am the case manager)"), required=False)
    unassigned = forms.BooleanField(label=_("No specialist yet"), required=False)
    due_soon = forms.BooleanField(label=_("Due within 48 hours"), required=False)
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    waiting = forms.BooleanField(label=_("Waiting on the patient"), required=False)
    held = forms.BooleanField(label=_("On hold: nobody qualified yet"), required=False)
    records_waiting = forms.BooleanField(label=_("Waiting on a records office"), required=False)
    records_overdue = forms.BooleanField(label=_("Overdue records request"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("due", _("Report due, soonest first")),
            ("urgent", _("Urgent first")),
            ("newest", _("Newest first")),
            ("reference", _("Reference")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any open status"))] + [
            (s.value, s.label) for s in CaseStatus if s in OPEN_STATES
        ]
        # The specialties read in one query: a ModelChoiceField left alone reads
        # them through a server-side cursor (three round trips), at every queue page.
        specialty = self.fields["specialty"]
        specialty.choices = [
            ("", specialty.empty_label),
            *((s.pk, specialty.label_from_instance(s)) for s in specialty.queryset),
        ]

    def filters(self) -> dict:
        return self.cleaned_data if self.is_valid() else {}

    def stored(self) -> dict:
        """The filters as the session keeps them (plain values, as a form posts them)."""
        data = dict(self.cleaned_data)
        data["specialty"] = data["specialty"].pk if data.get("specialty") else ""
        return {
            name: ("on" if value is True else value)
            for name, value in data.items()
            if value not in (None, "", False)
        }


class CaseMoveForm(CharacterCountMixin, forms.Form):
    """One of the moves the workflow allows this coordinator, with a reason
    (which the patient reads on their timeline)."""

    to_status = forms.ChoiceField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Note for the patient"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The patient reads this on their timeline. Asking for records? Say "
            "exactly what is missing, for example “Your biopsy pathology report "
            "from March”."
        ),
    )

    def __init__(self, *args, moves: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(m, m) for m in moves]
        self.fields["to_status"].error_messages["invalid_choice"] = _(
            "That step is no longer possible: the request has moved on. Check its status."
        )

    def clean(self):
        data = super().clean()
        if data.get("to_status") in REASON_REQUIRED and not data.get("reason", "").strip():
            self.add_error("reason", _("Write a note for the patient saying why."))
        return data


class InsuranceCheckForm(CharacterCountMixin, forms.ModelForm):
    """The coordinator's insurance check: what the plan does, the price-list
    services the fee is for, and what the patient pays (the services' total
    when left blank)."""

    items = forms.MultipleChoiceField(
        label=_("Services the fee is for"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("From the price list. The patient's receipt lists them."),
    )

    class Meta:
        model = Case
        fields = ["insurance_status", "fee_quoted", "insurance_note"]
        widgets = {
            "insurance_status": forms.RadioSelect,
            "insurance_note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"fee_quoted": _("Fee the patient pays")}
        help_texts = {
            "fee_quoted": _(
                "Leave it blank to quote the total of the services ticked. With "
                "insurance cover, enter what is left to the patient (0 if nothing)."
            ),
            "insurance_note": _(
                "The patient reads this. For example: “Your plan covers "
                "second opinions; your co-pay is $40.”"
            ),
        }
        error_messages = {"insurance_status": {"required": _("Choose what the check found.")}}

    def __init__(self, *args, prices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insurance_status"].required = True
        self.fields["insurance_status"].choices = InsuranceStatus.choices
        self.fields["fee_quoted"].widget.attrs.update({"inputmode": "decimal", "min": "0"})
        self.fields["items"].choices = [
            (p.item, f"{p.get_item_display()}: {money(p.amount, p.currency)}") for p in prices
        ]
        if not self.is_bound and self.instance.pk:
            self.initial["items"] = [line["item"] for line in self.instance.fee_items]

    def clean_fee_quoted(self):
        fee = self.cleaned_data.get("fee_quoted")
        if fee is not None and fee < 0:
            raise forms.ValidationError(_("The fee cannot be negative."))
        if fee is not None and fee > MAX_FEE:
            raise forms.ValidationError(
                _("The fee cannot be more than %(max)s: check the amount.") % {"max": MAX_FEE}
            )
        return fee

    def clean(self):
        data = super().clean()
        if (
            data.get("fee_quoted") is None
            and not data.get("items")
            and "fee_quoted" not in self.errors
        ):
            self.add_error(
                "fee_quoted", _("Enter the fee the patient pays, or tick the services it is for.")
            )
        return data


class ClaimForm(CharacterCountMixin, forms.Form):
    """Claim a case, or take it over from its manager (with a reason they read)."""

    expected_manager = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    start_triage = forms.BooleanField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Why are you taking it over?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The case manager you replace reads this. The patient does not."),
    )


class FeeWaiveForm(CharacterCountMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why go ahead without the patient's confirmation?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "For example: “Charity case: no fee” or “The insurer pays the service "
            "directly”. Kept on the case and in the audit log."
        ),
        error_messages={
            "required": _(
                "Say why matching goes ahead without the patient's confirmation of the fee."
            )
        },
    )
