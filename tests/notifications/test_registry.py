"""The kinds of notification are declared by the apps that raise them: the platform's
notifications package names none of them, in its code or its migrations, and adding
one needs no migration there."""

import ast
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from secondop.notifications import registry
from secondop.notifications.models import EmailPreference, Notification
from secondop.notifications.registry import NoticeKind
from secondop.notifications.services import notify

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_NOTIFICATIONS = ROOT / "secondop" / "notifications"


def _domain_kinds() -> dict[str, str]:
    """name -> the notices module of the domain app that declares it."""
    found = {}
    for config in apps.get_app_configs():
        if config.name.startswith(("secondop.", "django.", "allauth")):
            continue
        try:
            module = import_module(f"{config.name}.notices")
        except ModuleNotFoundError:
            continue
        for kind in module.KINDS:
            found[kind.name] = module.__name__
    return found


def _names_in(path: Path):
    """Every string literal, and every identifier in capitals (a constant), in one file."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.Name | ast.Attribute | ast.alias):
            name = getattr(node, "id", None) or getattr(node, "attr", None) or node.name
            if name.isupper():
                yield name


def test_the_domain_apps_declare_the_kinds_they_raise():
    domain = _domain_kinds()
    assert len(domain) >= 20
    # Every registered kind comes from a notices module; the platform keeps only its own.
    assert set(registry.always_emailed()) == {"security"}
    assert {k.name for k in registry.registered()} - set(domain) == {"security"}


@pytest.mark.parametrize(
    "path",
    sorted(PLATFORM_NOTIFICATIONS.rglob("*.py")),
    ids=lambda p: str(p.relative_to(PLATFORM_NOTIFICATIONS)),
)
def test_the_platform_s_notifications_name_no_domain_kind(path):
    """Neither the stored name ("offer_made") nor a constant (OFFER_MADE), in the
    code or the migrations: a new domain event is declared where it happens."""
    domain = _domain_kinds()
    words = set(domain) | {name.upper() for name in domain}
    assert sorted(set(_names_in(path)) & words) == []


def test_the_kind_fields_have_no_choices_so_a_new_kind_needs_no_migration():
    assert not Notification._meta.get_field("kind").choices
    assert not EmailPreference._meta.get_field("kind").choices


def test_every_kind_has_its_own_label_and_fits_the_field():
    kinds = registry.registered()
    assert len({str(k.label) for k in kinds}) == len(kinds)
    length = Notification._meta.get_field("kind").max_length
    assert all(len(k.name) <= length for k in kinds)


def test_each_role_chooses_the_same_kinds_as_before_the_registry():
    parties = {"case_update", "withdrawn", "cancelled", "closed", "message"}
    # issue 21: a call between the specialist and the patient's own doctor
    meeting = {"consultation", "reminder", "doctor_call"}
    assert registry.kinds_for_role("patient") == parties | meeting | {
        "submitted",
        "records_requested",
        "offer_accepted",
        "report_released",
        "follow_up",
        "outcome_asked",  # issue 21: the 90-day question (requests_app.outcomes)
        "physician",  # issue 21: the patient's own doctor asks the specialist
    }
    assert registry.kinds_for_role("coordinator") == parties | {
        "submitted",
        "amended",
        "overdue",
        "records_received",
        "offer_accepted",
        "offer_declined",
        "report_submitted",
        "records_retrieval",  # added since (issue 19): the records offices' clocks
    }
    assert registry.kinds_for_role("specialist") == parties | meeting | {
        "amended",
        "overdue",
        "offer_made",
        "offer_withdrawn",
        "report_returned",
        "report_released",
        "follow_up",
        "credentialing",
        "physician",  # issue 21: the patient's own doctor asks the specialist
    }
    assert registry.kinds_for_role("admin") == {"credentialing"}


def test_it_reads_a_kind_by_name():
    assert str(registry.label("offer_made")) == "A case is offered to a specialist"
    assert registry.notice_kind("security").always_emailed
    # An old row of a kind no longer declared shows its stored name.
    assert registry.label("new_case") == "new_case"
    with pytest.raises(LookupError):
        registry.notice_kind("new_case")


def test_registering_again_is_harmless_and_a_second_meaning_is_refused():
    kind = registry.notice_kind("message")
    registry.register([kind])
    assert registry.notice_kind("message") is kind
    with pytest.raises(ImproperlyConfigured):
        registry.register([NoticeKind("message", "Something else", {"patient"})])
    with pytest.raises(ImproperlyConfigured):
        registry.register([NoticeKind("a_name_longer_than_twenty", "Too long")])
    assert registry.notice_kind("message") is kind


@pytest.mark.django_db
def test_notify_refuses_a_kind_no_app_registered(patient):
    with pytest.raises(LookupError):
        notify(recipient=patient, kind="offer_made_typo", title="x")
    assert not Notification.objects.exists()
