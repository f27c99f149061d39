"""Which language each person reads SecondOp in.

Pages: the account's language for a signed-in person (chosen with the switch in the
header, or the language they signed up in); everyone else gets the language cookie
the switch sets, or their browser's language when it is one we offer
(LocaleMiddleware), or English. Emails and notifications: the recipient's account
language, whoever's request sends them (`speaking_to`)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation


def offered(code: str | None) -> bool:
    return bool(code) and code in dict(settings.LANGUAGES)


def language_of(user) -> str:
    """The language `user` reads SecondOp in: their account's, else English."""
    code = getattr(user, "language", "") or ""
    return code if offered(code) else settings.LANGUAGE_CODE


@contextmanager
def speaking_to(user) -> Iterator[str]:
    """Words made inside are in `user`'s language (a notification's title and email,
    made while someone else's request is active)."""
    code = language_of(user)
    with translation.override(code):
        yield code


class AccountLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in person reads pages in their
    account's language (LocaleMiddleware has chosen one from the cookie or the
    browser before the user was known)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and offered(user.language):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
