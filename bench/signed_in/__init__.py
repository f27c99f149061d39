"""The signed-in floor (bench/pages.py): a bench-only URL, served through bench/settings.py."""

FLOOR_PATH = "/bench/signed-in-floor/"
