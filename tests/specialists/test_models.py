"""specialists.models: what a person reads of a specialty and a board."""

import pytest
from django.utils import translation

from specialists.models import Board, Specialty
from specialists.services import specialties_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def oncology(db):
    if not Specialty.objects.exists():
        specialties_load()
    return Specialty.objects.get(slug="oncology")


def test_a_specialty_is_named_and_described_in_the_readers_language(oncology):
    with translation.override("es"):
        assert str(oncology) == "Oncología médica"
        assert oncology.what_it_covers == "Diagnóstico del cáncer y tratamiento con medicinas"
    with translation.override("en"):
        assert str(oncology) == "Medical Oncology"
        assert oncology.what_it_covers == oncology.description


def test_a_board_keeps_its_own_english_name():
    board = Board(slug="abim", name="American Board of Internal Medicine")
    with translation.override("es"):
        assert str(board) == "American Board of Internal Medicine"
        assert board.short_name == "Internal Medicine"
