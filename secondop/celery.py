import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")

app = Celery("secondop")
# Every CELERY_* setting in secondop/settings.py configures the app: JSON only,
# time limits, acks_late with reject_on_worker_lost, and the beat schedule.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
