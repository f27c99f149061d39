"""What a deployment must set before SecondOp starts with DEBUG off.

The settings fail closed: DEBUG is on only when DJANGO_DEBUG=true asks for it
(scripts/run does), and with DEBUG off every embedded convenience is refused,
naming the variable that replaces it. PHI must never meet a traceback page, a
console that prints reset links, a per-process cache (rate limits and TOTP
replay marks), eager tasks, or files on a web server's disk."""

from urllib.parse import parse_qs, urlsplit

LOCAL_DEVELOPMENT = "For local development set DJANGO_DEBUG=true (scripts/run does)."


def production_problems(env) -> list[str]:
    """Every reason these environment variables are unsafe with DEBUG off."""
    problems = []
    if len(env("DJANGO_SECRET_KEY", default="")) < 50:
        problems.append("DJANGO_SECRET_KEY: set a random string of 50+ characters.")
    database = env("DATABASE_URL", default="")
    if not database or database.startswith("sqlite"):
        problems.append("DATABASE_URL: SQLite is for local development; set a PostgreSQL URL.")
    redis = env("REDIS_URL", default="")
    if not (redis or env("CACHE_REDIS_URL", default="")):
        problems.append(
            "REDIS_URL (or CACHE_REDIS_URL): without it the cache is per process, "
            "so rate limits and TOTP replay protection would not hold."
        )
    if not (redis or env("CELERY_BROKER_URL", default="")):
        problems.append(
            "REDIS_URL (or CELERY_BROKER_URL): without a broker, background tasks "
            "would run inside web requests."
        )
    smtp = env("SMTP_URL", default="")
    if env("MAIL_FILE_DIR", default=""):
        problems.append("MAIL_FILE_DIR: email written to files is for tests; unset it.")
    if not smtp:
        problems.append("SMTP_URL: email would be printed to the console; set an SMTP server.")
    elif not _smtp_uses_tls(smtp) and not env.bool("SMTP_ALLOW_UNENCRYPTED", default=False):
        problems.append(
            "SMTP_URL: use TLS (smtp://…:587?tls=True, or smtps://…:465); "
            "SMTP_ALLOW_UNENCRYPTED=true only for a mail catcher on a private "
            "network."
        )
    if not env("AWS_STORAGE_BUCKET_NAME", default=""):
        problems.append(
            "AWS_STORAGE_BUCKET_NAME: records would be stored on the web server's "
            "disk; set the private S3 bucket."
        )
    if not env("CLAMD_ADDRESS", default=""):
        problems.append(
            "CLAMD_ADDRESS: uploaded records would not be scanned for malware; "
            "point it at clamd (tcp://clamav:3310)."
        )
    return problems


def _smtp_uses_tls(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("smtps", "smtp+ssl", "smtp+tls"):
        return True
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    return query.get("tls") in ("true", "1") or query.get("ssl") in ("true", "1")


def refusal_message(problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return (
        f"SecondOp will not start: DEBUG is off and these settings are not safe for "
        f"production:\n{lines}\n{LOCAL_DEVELOPMENT}"
    )
