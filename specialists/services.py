from .specialties import SPECIALTIES


def specialties_load(model=None) -> int:
    """Create or update the specialties list. The migration passes its historical model."""
    if model is None:
        from .models import Specialty as model
    for slug, name, description in SPECIALTIES:
        model.objects.update_or_create(slug=slug, defaults={"name": name, "description": description})
    return len(SPECIALTIES)
