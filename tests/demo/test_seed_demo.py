import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.urls import reverse

from secondop.accounts.models import User
from secondop.demo.management.commands.seed_demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from specialists.models import SpecialistProfile
from tests.accounts.factories import totp_code

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_makes_every_role(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    first = User.objects.count()
    call_command("seed_demo")
    assert User.objects.count() == first
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {"patient", "coordinator", "specialist", "admin"}
    assert SpecialistProfile.objects.count() >= 3
    assert SpecialistProfile.objects.values("specialties").distinct().count() >= 3
    assert Authenticator.objects.filter(user__role="coordinator", type="totp").count() == 1
    patient = User.objects.get(role="patient")
    statuses = sorted(patient.cases.values_list("status", flat=True))
    assert statuses == ["draft", "submitted", "withdrawn"]
    assert patient.cases.get(status="submitted").reference.startswith("SO-")


def test_the_demo_coordinator_signs_in_with_the_published_totp_secret(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    response = client.post(reverse("account_login"),
                           {"login": "coordinator@demo.secondop.test", "password": DEMO_PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(DEMO_TOTP_SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("requests_app:coordinator_home")).status_code == 200


def test_seed_demo_refuses_to_run_without_debug(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
