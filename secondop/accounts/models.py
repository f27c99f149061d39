from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    COORDINATOR = "coordinator", _("Coordinator")
    SPECIALIST = "specialist", _("Specialist")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.SPECIALIST, Role.ADMIN})


# Titles before a name and letters after it: "Dr. Helen Marsh, MD" is Helen Marsh.
_HONORIFICS = frozenset({"dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "miss", "mx"})
# As written (case counts: "Anh Do" keeps his surname; "Helen Marsh MD" loses the MD).
_POST_NOMINALS = frozenset(
    {
        "MD",
        "DO",
        "PhD",
        "MPH",
        "MBA",
        "RN",
        "NP",
        "PA",
        "FACC",
        "FACS",
        "FACP",
        "FRCP",
        "Jr",
        "Sr",
        "II",
        "III",
        "IV",
    }
)


def name_words(full_name: str) -> list[str]:
    """The words of a person's name without titles and post-nominal letters."""
    words = (full_name or "").split(",")[0].split()
    while words and words[0].lower().rstrip(".") in _HONORIFICS:
        words = words[1:]
    while len(words) > 1 and words[-1].replace(".", "") in _POST_NOMINALS:
        words = words[:-1]
    return words


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("role", Role.PATIENT)
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(role=Role.ADMIN, is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with their email address."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.PATIENT)
    # The IANA zone this person reads times in (secondop.timezones): staff choose it
    # (first taken from their browser); a patient's follows their state. Blank:
    # not known yet, SecondOp's own zone is used.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    # The language pages and emails are in for this person (a code of
    # settings.LANGUAGES). Blank: not chosen yet; their browser's language is used
    # for pages, and English for emails.
    language = models.CharField(_("language"), max_length=8, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            # Only administrators may reach the Django admin.
            models.CheckConstraint(
                condition=models.Q(is_staff=False) | models.Q(role="admin"),
                name="accounts_user_only_admins_are_django_staff",
            ),
        ]
        indexes = [models.Index(fields=["role", "is_active"])]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        words = name_words(self.full_name)
        return words[0] if words else self.email

    def greeting_name(self) -> str:
        """How an email greets them: "Dr. Marsh" for a specialist, the first name
        ("Margaret") for everyone else; "" when the name gives nothing to use."""
        words = name_words(self.full_name)
        if not words:
            return ""
        if self.role == Role.SPECIALIST:
            return f"Dr. {words[-1]}"
        return words[0]

    @property
    def is_clinical_staff(self) -> bool:
        """Coordinators, specialists and admins: people who see other people's PHI."""
        return self.role in STAFF_ROLES

    @property
    def idle_timeout_seconds(self) -> int:
        from django.conf import settings

        if self.is_clinical_staff:
            return settings.SESSION_IDLE_TIMEOUT_STAFF
        return settings.SESSION_IDLE_TIMEOUT_PATIENT
