"""records.verification.viewers: the viewer software an imaging CD carries."""

import pytest

from records.verification import is_viewer_file
from tests.records import samples
from tests.records.verification.helpers import assert_rejected, verify


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("AUTORUN.INF", True),
        ("disc/Autorun.inf", True),
        ("VIEWER/viewer.exe", True),
        ("Viewer/lib/qt.dll", True),
        ("DICOMDIR", False),
        ("README.TXT", True),
        ("index.html", True),
        ("__MACOSX/._IM0001", True),
        ("jre/bin/java", True),
        ("DICOM/S0001/I0001", False),
        ("IM000001.dcm", False),
        ("report.pdf", False),
        ("notes.txt", False),
        ("photos/scan.jpg", False),
    ],
)
def test_it_knows_cd_viewer_files(path, expected):
    assert is_viewer_file(path) is expected


def test_without_the_study_flag_a_program_is_refused(local_storage):
    assert_rejected(verify(local_storage, samples.executable(), "viewer.exe"), "type_not_allowed")
