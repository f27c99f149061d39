"""records.imaging services, tasks and selectors: a verified study's series made and
rendered frame by frame in display order, the presets asked for, storage down,
lapsed work swept, and frames deleted with their record."""

import datetime
import io
import uuid
import zipfile
from unittest import mock

import numpy as np
import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from records import checking, storage
from records.imaging import selectors, services, tasks
from records.imaging.models import FrameSet, Series
from records.models import Record, RecordFile, State
from tests.records.imaging import dicoms
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

STUDY = "1.2.826.0.1.3680043.8.498.99"
CT_SERIES, MR_SERIES = f"{STUDY}.1", f"{STUDY}.2"


@pytest.fixture
def case(patient):
    return CaseFactory(owner=patient, submitted=True)


def ct_instances(count=4, *, rle=True, **options) -> dict[str, bytes]:
    """CT instances whose pixels say their InstanceNumber (a flat value of 100 x n),
    named in the reverse order, so that display order is not the files' order."""
    return {
        f"CD/CT/IM{count - n:03d}": dicoms.instance(
            np.full((64, 64), 100 * n, np.int16),
            series=CT_SERIES,
            study=STUDY,
            number=n,
            rle=rle,
            WindowCenter=200,
            WindowWidth=400,
            **options,
        )
        for n in range(1, count + 1)
    }


def mr_instance() -> dict[str, bytes]:
    return {
        "CD/MR/IM001": dicoms.instance(
            np.arange(64 * 64, dtype=np.int16).reshape(64, 64),
            modality="MR",
            series=MR_SERIES,
            study=STUDY,
        )
    }


def make_record(case, files: dict[str, bytes]) -> Record:
    record = Record.objects.create(
        case=case,
        uploaded_by=case.owner,
        category="imaging",
        title="CD",
        is_study=True,
        state=State.UPLOADED,
        size=sum(map(len, files.values())),
        uploaded_at=timezone.now(),
        slot_expires_at=timezone.now(),
    )
    for name, data in files.items():
        file_uuid = uuid.uuid4()
        key = f"{record.prefix}{file_uuid}"
        default_storage.save(key, ContentFile(data))
        RecordFile.objects.create(
            uuid=file_uuid, record=record, key=key, name=name, size=len(data), stored_size=len(data)
        )
    return record


def verified(case, files, capture) -> Record:
    """Verified as records.checking does, with what is queued on commit run (eagerly):
    the series made and every frame rendered."""
    record = make_record(case, files)
    with capture(execute=True):
        checking.check_record(record.pk)
    record.refresh_from_db()
    assert record.state == State.VERIFIED, record.reason
    return record


def frame_means(frame_set: FrameSet) -> list[float]:
    out = []
    for index in range(frame_set.ready_count):
        with selectors.open_frame(frame_set, index) as handle:
            out.append(float(np.asarray(Image.open(io.BytesIO(handle.read())).convert("L")).mean()))
    return out


def test_a_verified_study_is_rendered_series_by_series_in_display_order(
    case, django_capture_on_commit_callbacks
):
    record = verified(
        case, {**ct_instances(4), **mr_instance()}, django_capture_on_commit_callbacks
    )
    ct, mr = selectors.series_of_record(record)
    assert (ct.series_uid, ct.modality, ct.image_count, ct.position) == (CT_SERIES, "CT", 4, 0)
    assert (mr.modality, mr.image_count, mr.position) == ("MR", 1, 1)
    assert ct.presets == ("stored", "soft_tissue", "lung", "bone", "brain")
    assert mr.presets == ("stored",)
    for series in (ct, mr):
        sets = list(series.frame_sets.all())
        assert sorted((f.preset, f.size) for f in sets) == [("stored", 512), ("stored", 1024)]
        for frame_set in sets:
            assert frame_set.state == FrameSet.State.READY
            assert frame_set.ready_count == frame_set.total == series.image_count
            assert default_storage.exists(frame_set.key(0))
            assert frame_set.key(0).startswith(f"{record.prefix}frames/{series.uuid}/stored/")
    # InstanceNumber 1..4 hold 100..400 through a W400/L200 window: getting brighter.
    means = frame_means(selectors.frame_set(ct, "stored", 1024))
    assert means == sorted(means) and means[0] < means[-1] - 150, means


def test_a_zip_study_renders_too(case, django_capture_on_commit_callbacks):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in ct_instances(3).items():
            out.writestr(name, data)
    record = make_record(case, {"cd.zip": archive.getvalue()})
    Record.objects.filter(pk=record.pk).update(is_study=False)  # one file, as uploaded
    with django_capture_on_commit_callbacks(execute=True):
        checking.check_record(record.pk)
    (series,) = selectors.series_of_record(record)
    frame_set = selectors.frame_set(series, "stored", 512)
    assert frame_set.state == FrameSet.State.READY and frame_set.ready_count == 3
    means = frame_means(frame_set)
    assert means == sorted(means)


def test_slices_without_distinct_numbers_are_ordered_by_position(case):
    files = {
        f"CD/IM{n}": dicoms.instance(
            np.full((16, 16), 100 * n, np.int16),
            series=CT_SERIES,
            study=STUDY,
            number=1,  # all the same
            position=[30.0, -10.0, 10.0][n - 1],
            WindowCenter=200,
            WindowWidth=400,
        )
        for n in (1, 2, 3)
    }
    record = make_record(case, files)
    checking.check_record(record.pk)  # on-commit work not run: rendered below
    record.refresh_from_db()
    services.start_rendering(record)
    (series,) = selectors.series_of_record(record)
    by_name = dict(RecordFile.objects.filter(record=record).values_list("uuid", "name"))
    order = [by_name[uuid.UUID(file)] for file, _member, _frame in series.sources]
    assert order == ["CD/IM2", "CD/IM3", "CD/IM1"]  # -10, 10, 30 along the normal


def test_a_ct_preset_is_rendered_when_first_asked_for_and_only_once(
    case, django_capture_on_commit_callbacks
):
    record = verified(
        case, {**ct_instances(2), **mr_instance()}, django_capture_on_commit_callbacks
    )
    ct, mr = selectors.series_of_record(record)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        lung = services.ask_for_preset(ct, "lung")
    assert [(f.preset, f.size) for f in lung] == [("lung", 1024), ("lung", 512)]
    assert len(queued) == 2
    lung_set = selectors.frame_set(ct, "lung", 1024)
    assert lung_set.state == FrameSet.State.READY and lung_set.ready_count == 2
    with django_capture_on_commit_callbacks(execute=True) as again:
        services.ask_for_preset(ct, "lung")
    assert again == []
    with pytest.raises(services.PresetNotOffered):
        services.ask_for_preset(mr, "lung")
    # Different pixels from the stored window.
    assert frame_means(lung_set) != frame_means(selectors.frame_set(ct, "stored", 1024))


def test_frames_are_deleted_with_their_record(case, patient, django_capture_on_commit_callbacks):
    from records import services as record_services

    record = verified(case, ct_instances(2), django_capture_on_commit_callbacks)
    frames = [k for k in storage.keys_under(record.prefix) if "/frames/" in k]
    assert len(frames) == 4  # 2 frames x 2 sizes
    with django_capture_on_commit_callbacks(execute=True):
        record_services.record_delete(actor=patient, record_ref=record.uuid)
    assert storage.keys_under(record.prefix) == []
    assert not Series.objects.filter(record_id=record.pk).exists()


def test_a_record_deleted_while_its_frames_render_leaves_no_frame(case):
    record = make_record(case, ct_instances(3))
    checking.check_record(record.pk)
    record.refresh_from_db()
    with mock.patch.object(services, "_queue"):
        made = services.start_rendering(record)
    real_save = storage.save_bytes

    def save_then_delete(key, data, content_type):
        real_save(key, data, content_type)
        Record.objects.filter(pk=record.pk).delete()

    with mock.patch.object(storage, "save_bytes", side_effect=save_then_delete):
        assert services.render_frame_set(made[0].pk) == "gone"
    assert [k for k in storage.keys_under(record.prefix) if "/frames/" in k] == []


def test_storage_down_keeps_the_work_and_retries_with_the_lease_held(case):
    record = make_record(case, ct_instances(2))
    checking.check_record(record.pk)
    record.refresh_from_db()
    with mock.patch.object(services, "_queue"):
        frame_set = services.start_rendering(record)[0]
    with (
        mock.patch.object(storage, "save_bytes", side_effect=storage.StorageUnavailable),
        mock.patch.object(tasks.frames_render, "retry", side_effect=Retry) as retry,
        pytest.raises(Retry),
    ):
        tasks.frames_render.run(frame_set.pk)
    assert retry.call_args.kwargs["countdown"] == 30
    frame_set.refresh_from_db()
    assert frame_set.state == FrameSet.State.RENDERING and frame_set.ready_count == 0
    assert frame_set.lease_until > timezone.now() + datetime.timedelta(seconds=25)
    # Storage back, the retry runs and renders it all.
    assert tasks.frames_render.run(frame_set.pk) == "nothing to do"  # its lease is held
    FrameSet.objects.filter(pk=frame_set.pk).update(lease_until=timezone.now())
    assert tasks.frames_render.run(frame_set.pk) == "ready"
    frame_set.refresh_from_db()
    assert frame_set.ready_count == 2


def test_the_sweep_queues_lapsed_and_lost_work_again(case, django_capture_on_commit_callbacks):
    record = make_record(case, ct_instances(2))
    checking.check_record(record.pk)  # imaging_start lost: nothing queued on commit
    with django_capture_on_commit_callbacks(execute=True):
        tasks.imaging_sweep()  # makes the series, queues them (not run: the sweep's own)
    record.refresh_from_db()
    sets = FrameSet.objects.filter(series__record=record)
    assert sets.count() == 2
    # A worker died mid-way: a lapsed lease, one frame done.
    sets.update(state=FrameSet.State.RENDERING, lease_until=timezone.now(), ready_count=0)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.imaging_sweep() == 2
    assert set(sets.values_list("state", "ready_count")) == {(FrameSet.State.READY, 2)}
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.imaging_sweep() == 0


def test_a_bad_file_fails_its_series_with_a_reason_and_keeps_the_frames_before_it(case):
    files = ct_instances(3, rle=False)
    record = make_record(case, files)
    checking.check_record(record.pk)
    record.refresh_from_db()
    with mock.patch.object(services, "_queue"):
        frame_set = services.start_rendering(record)[0]
    # The third instance (display order) is replaced, after verification, by a cut copy.
    series = frame_set.series
    third = RecordFile.objects.get(uuid=series.sources[2][0])
    data = default_storage.open(third.key).read()
    default_storage.delete(third.key)
    default_storage.save(third.key, ContentFile(data[:-1000]))
    assert services.render_frame_set(frame_set.pk) == "damaged"
    frame_set.refresh_from_db()
    assert (frame_set.state, frame_set.reason, frame_set.ready_count) == ("failed", "damaged", 2)
    with pytest.raises(selectors.FrameNotReady):
        selectors.open_frame(frame_set, 2)


def test_the_case_lists_only_verified_studies_series(case, django_capture_on_commit_callbacks):
    record = verified(case, ct_instances(1), django_capture_on_commit_callbacks)
    (series,) = selectors.series_of_case(case)
    assert series.record == record
    assert [f.size for f in series.frame_sets.all()] == [1024, 512]
    Record.objects.filter(pk=record.pk).update(state=State.REJECTED, reason="malware")
    assert selectors.series_of_case(case) == []
