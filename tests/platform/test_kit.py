"""The platform's plumbing kit: one refusal, one form-post helper, one task base."""

from unittest import mock

import pytest
from celery import shared_task
from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse

from secondop.posting import form_post
from secondop.queueing import SweptTask
from secondop.refusals import Refusal, page_status


class _Form(forms.Form):
    name = forms.CharField()


def test_a_refusal_puts_its_errors_on_their_fields_and_its_message_when_there_are_none():
    form = _Form({"name": "x"})
    assert form.is_valid()
    Refusal("Not now.", {"name": ["Taken."], "elsewhere": ["Later."]}, status=409).apply_to(form)
    assert form.errors["name"] == ["Taken."] and form.non_field_errors() == ["Later."]
    assert page_status(form) == 409
    plain = _Form({"name": "x"})
    plain.is_valid()
    Refusal("Not now.").apply_to(plain)
    assert plain.non_field_errors() == ["Not now."] and page_status(plain) == 400
    assert str(Refusal("Words.")) == "Words."


def _post(rf, data):
    request = rf.post("/x/", data)
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_form_post_redirects_after_the_service_and_shows_the_page_again_otherwise(rf):
    def page(form, status):
        return HttpResponse(str(sorted(form.errors)), status=status)

    done = form_post(
        _post(rf, {"name": "Ann"}),
        _Form({"name": "Ann"}),
        act=lambda data: data["name"],
        then=lambda name: f"/done/{name}/",
        page=page,
        success="Saved.",
    )
    assert (done.status_code, done["Location"]) == (302, "/done/Ann/")
    invalid = form_post(_post(rf, {}), _Form({}), act=mock.Mock(), then=lambda r: "/", page=page)
    assert invalid.status_code == 400

    def refuse(data):
        raise Refusal("Gone.", status=409)

    refused = form_post(
        _post(rf, {"name": "Ann"}),
        _Form({"name": "Ann"}),
        act=refuse,
        then=lambda r: "/",
        page=page,
    )
    assert refused.status_code == 409


@shared_task(base=SweptTask, bind=True, max_retries=3, name="tests.kit.flaky")
def flaky(self):
    try:
        raise OSError("storage away")
    except OSError as error:
        return self.later(error)


def test_a_swept_task_run_eagerly_leaves_its_work_for_the_sweep():
    assert flaky.delay().get() == "later"


def test_a_swept_task_backs_off_up_to_its_cap():
    for retries, countdown in [(0, 30), (1, 60), (5, 960), (6, 1800), (10, 1800)]:
        flaky.push_request(retries=retries)
        try:
            assert flaky.backoff() == countdown
        finally:
            flaky.pop_request()


@pytest.mark.django_db
def test_queue_on_commit_takes_a_registered_name(django_capture_on_commit_callbacks):
    from secondop.queueing import queue_on_commit

    with (
        mock.patch.object(flaky, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        queue_on_commit("tests.kit.flaky")
    apply_async.assert_called_once_with(())


def test_a_task_queued_by_name_is_found_before_any_worker_discovered_it():
    """A web process has imported no tasks module when it first queues by name."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django, sys; django.setup();"
        "assert 'records.tasks' not in sys.modules;"
        "from secondop.queueing import _task;"
        "print(_task('records.tasks.records_sweep').name)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "secondop.settings",
            "DJANGO_DEBUG": "true",
            "HOME": "/tmp",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "records.tasks.records_sweep", result.stderr


def test_queueing_by_name_loads_the_tasks_module_once_under_threads(monkeypatch):
    """Two threads queueing their first task by name at once both find it registered
    (secondop.queueing loads the tasks modules under a lock)."""
    import sys
    import threading

    from celery import current_app

    from secondop import queueing

    name = "records.tasks.record_verify"
    monkeypatch.delitem(current_app.tasks, name, raising=False)
    monkeypatch.delitem(sys.modules, "records.tasks", raising=False)
    found, errors = [], []

    def queue():
        try:
            found.append(queueing._task(name).name)
        except Exception as error:  # the race this guards against: NotRegistered
            errors.append(error)

    threads = [threading.Thread(target=queue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and found == [name] * 4
