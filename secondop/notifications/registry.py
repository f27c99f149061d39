"""The kinds of notification, declared by the apps that raise them.

The platform knows no domain event. Each app lists its kinds in its own
`notices.py` and registers them from its AppConfig.ready(); the platform reads
them here: the label the preferences page and the admin show, who can receive
a kind (and so choose it), and which kinds are always emailed. A kind is one
event, so that muting one mutes only that one.

The name is what Notification.kind and EmailPreference.kind store: once a kind
has been sent, its name never changes. Adding a kind needs no migration here.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise

# Notification.kind and EmailPreference.kind hold at most this many characters.
MAX_NAME_LENGTH = 20


@dataclass(frozen=True)
class NoticeKind:
    name: str
    label: str | Promise
    # The roles (secondop.accounts.models.Role) that can receive it, and so choose
    # on the preferences page whether it is emailed.
    roles: frozenset[str] = frozenset()
    # People cannot switch these emails off: they protect the account itself.
    always_emailed: bool = False

    def __post_init__(self):
        object.__setattr__(self, "roles", frozenset(self.roles))


_KINDS: dict[str, NoticeKind] = {}


def register(kinds: Iterable[NoticeKind]) -> None:
    """Called from an AppConfig.ready(). Registering the same declaration again
    is harmless; two different declarations of one name are refused."""
    for kind in kinds:
        if not kind.name or len(kind.name) > MAX_NAME_LENGTH:
            raise ImproperlyConfigured(
                f"A notification kind's name has 1 to {MAX_NAME_LENGTH} characters: {kind.name!r}"
            )
        known = _KINDS.get(kind.name)
        if known is not None and known != kind:
            raise ImproperlyConfigured(f"The notification kind {kind.name!r} is declared twice")
        _KINDS[kind.name] = kind


def registered() -> tuple[NoticeKind, ...]:
    """Every kind, in the order the apps registered them (INSTALLED_APPS)."""
    return tuple(_KINDS.values())


def notice_kind(name: str) -> NoticeKind:
    """The declaration of a kind; LookupError for a name no app registered."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No app registers the notification kind {name!r}") from None


def label(name: str) -> str:
    """What a kind is called; a kind no longer registered (an old row) shows its name."""
    kind = _KINDS.get(name)
    return str(kind.label) if kind else name


def kinds_for_role(role: str) -> frozenset[str]:
    """The kinds a person in this role can receive, and so choose on the preferences page."""
    return frozenset(name for name, kind in _KINDS.items() if role in kind.roles)


def always_emailed() -> frozenset[str]:
    return frozenset(name for name, kind in _KINDS.items() if kind.always_emailed)
