"""Accounts in our voice: allauth's pages and emails in SecondOp's words, sentence-case
titles, and confirming the email in the browser that signed up signs the person in."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from secondop.accounts.templatetags.account_words import sentence_case
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "full_name": "Jo Bloggs",
    "email": "jo@example.com",
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
}


def _title(html: str) -> str:
    return " ".join(re.search(r"<title>(.*?)</title>", html, re.S).group(1).split())


def _h1(html: str) -> str:
    return " ".join(
        re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)).split()
    )


def _confirmation_link(message) -> str:
    return re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body).group(0)


def test_the_confirmation_email_speaks_for_secondop(client):
    client.post(reverse("account_signup"), SIGNUP)
    message = mail.outbox[0]
    assert message.subject == "SecondOp: confirm your email address"
    assert message.body.startswith("Hello Jo,")
    assert "Hello from" not in message.body
    assert "Thank you for using" not in message.body
    assert "care@secondop.local" in message.body
    assert message.body.rstrip().endswith("SecondOp")
    assert _confirmation_link(message)


def test_the_password_reset_email_speaks_for_secondop(client):
    UserFactory(email="pat@example.com", full_name="Pat Patient")
    client.post(reverse("account_reset_password"), {"email": "pat@example.com"})
    message = mail.outbox[0]
    assert message.subject == "SecondOp: reset your password"
    assert message.body.startswith("Hello Pat,")
    assert "Hello from" not in message.body
    assert "/accounts/password/reset/key/" in message.body


def test_confirming_in_the_same_browser_signs_the_person_in(client):
    client.post(reverse("account_signup"), SIGNUP)
    link = _confirmation_link(mail.outbox[0])
    path = link.split("testserver", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    assert _h1(page.content.decode()) == "Confirm your email address"
    response = client.post(path, follow=True)
    assert EmailAddress.objects.get(email="jo@example.com").verified
    assert response.wsgi_request.user.is_authenticated
    assert response.wsgi_request.user.email == "jo@example.com"
    assert response.redirect_chain[-1][0] == reverse("requests_app:dashboard")


def test_a_link_opened_in_another_browser_confirms_but_signs_nobody_in(client):
    from django.test import Client

    client.post(reverse("account_signup"), SIGNUP)
    path = _confirmation_link(mail.outbox[0]).split("testserver", 1)[1]
    other = Client()
    response = other.post(path, follow=True)
    assert EmailAddress.objects.get(email="jo@example.com").verified
    assert not response.wsgi_request.user.is_authenticated


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("account_login", "Sign in"),
        ("account_signup", "Create an account"),
        ("account_reset_password", "Reset your password"),
        ("account_reset_password_done", "Check your email"),
        ("account_email_verification_sent", "Check your email"),
    ],
)
def test_entrance_pages_have_sentence_case_titles_in_our_words(client, name, title):
    html = client.get(reverse(name)).content.decode()
    assert _title(html) == f"{title} · SecondOp"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("account_email", "Email address"),
        ("account_change_password", "Change password"),
        ("mfa_index", "Two-factor authentication"),
        ("usersessions_list", "Signed-in devices"),
    ],
)
def test_account_pages_we_did_not_rewrite_are_in_sentence_case_too(client, name, title):
    user = UserFactory(email="pat@example.com")
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert _title(html) == f"{title} · SecondOp"
    assert _h1(html) == title


def test_sentence_case_keeps_names_acronyms_and_links():
    assert sentence_case("Two-Factor Authentication") == "Two-factor authentication"
    assert sentence_case("Enter Sign-In Code") == "Enter sign-in code"
    assert sentence_case("Activate TOTP With SecondOp") == "Activate TOTP with SecondOp"
    assert (
        sentence_case('Read <a href="/Help">The Guide</a>') == 'Read <a href="/Help">the guide</a>'
    )


def test_signing_in_still_works_with_our_page(client):
    UserFactory(email="pat@example.com")
    response = client.post(
        reverse("account_login"), {"login": "pat@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
