import pytest
from django.test import Client
from django.urls import reverse

from bench.pagetext import visible_text
from secondop.accounts.devices import device_name
from tests.accounts.factories import PASSWORD

MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("agent", "words"),
    [
        (MAC_CHROME, "Chrome on a Mac"),
        (IPHONE_SAFARI, "Safari on an iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on an Android phone",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
            "Chrome on an iPhone",
        ),
        ("curl/8.5.0", "A browser we do not recognise"),
        ("", "A browser we do not recognise"),
        (None, "A browser we do not recognise"),
    ],
)
def test_it_names_the_device_in_words(agent, words):
    assert device_name(agent) == words


@pytest.mark.django_db
def test_the_devices_page_names_devices_and_scrolls_by_keyboard(patient):
    laptop = Client(HTTP_USER_AGENT=MAC_CHROME)
    phone = Client(HTTP_USER_AGENT=IPHONE_SAFARI)
    for device in (laptop, phone):
        device.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    html = laptop.get(reverse("usersessions_list")).content.decode()
    text = visible_text(html)
    assert "Chrome on a Mac This device" in text
    assert "Safari on an iPhone" in text
    assert "AppleWebKit" not in text  # only under "Browser details", folded
    assert (
        'class="table-wrapper" role="region" tabindex="0" aria-labelledby="devices-caption"' in html
    )
    assert "Sign out of the other devices" in text


@pytest.mark.django_db
def test_an_outsider_sees_only_their_own_devices(patient, outsider):
    mine, theirs = Client(HTTP_USER_AGENT=MAC_CHROME), Client(HTTP_USER_AGENT=IPHONE_SAFARI)
    mine.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    theirs.post(reverse("account_login"), {"login": outsider.email, "password": PASSWORD})
    text = visible_text(theirs.get(reverse("usersessions_list")).content.decode())
    assert "Safari on an iPhone" in text and "Chrome on a Mac" not in text
