"""Demo specialists so that every specialty a patient can choose has someone who
practises it, with a verified licence, in the ten most populous states: the
demo's matching then shows real answers for any ordinary case, not only for the
demo patients' own. Each is board-certified in the first certification the
specialty means (specialists/data/abms_certifications.json, "specialties")."""

from specialists.services import certifications_data
from specialists.specialties import ALL_SPECIALTIES

# By 2020 census population.
TOP_TEN_STATES = ("CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI")

_FIRST = (
    "Nadia",
    "Thomas",
    "Aisha",
    "Robert",
    "Mei",
    "Carlos",
    "Hannah",
    "Victor",
    "Leila",
    "Peter",
    "Sofia",
    "Andrew",
    "Yuki",
    "Marcus",
    "Elena",
    "David",
    "Fatima",
    "Jonah",
    "Ingrid",
    "Kwame",
    "Rosa",
    "Benjamin",
    "Amara",
    "Luis",
    "Claire",
    "Hiro",
    "Noor",
    "Gabriel",
    "Esther",
    "Ravi",
    "Julia",
    "Tomas",
    "Zara",
    "Owen",
    "Mariana",
    "Isaac",
    "Priscilla",
    "Felix",
    "Naomi",
    "Arjun",
    "Beatriz",
    "Samuel",
)
_LAST = (
    "Abbott",
    "Brandt",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Farouk",
    "Gallagher",
    "Huang",
    "Ibarra",
    "Jensen",
    "Kowalski",
    "Lambert",
    "Mensah",
    "Nakamura",
    "Oyelaran",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sandoval",
    "Tanaka",
    "Underwood",
    "Varga",
    "Whitaker",
    "Xu",
    "Yilmaz",
    "Zamora",
    "Adeyemi",
    "Bauer",
    "Chaudhry",
    "Delgado",
    "Ekwueme",
    "Fischer",
    "Goldberg",
    "Haddad",
    "Iversen",
    "Jovanovic",
    "Kapoor",
    "Lindgren",
    "Moreau",
    "Novak",
    "Ortega",
    "Park",
)
_CITIES = (
    "Great Lakes",
    "Sun Coast",
    "Pacific",
    "Lone Star",
    "Keystone",
    "Prairie",
    "Peachtree",
    "Piedmont",
    "Buckeye",
    "Empire",
)


def coverage_specialists(existing_fits) -> list[dict]:
    """One specialist for each specialty that `existing_fits(slug)` says no demo
    specialist already covers in all ten states; plain data for seed_demo."""
    data = certifications_data()
    mapping = data["specialties"]
    ranges = {c["slug"]: c["icd10"] for board in data["boards"] for c in board["certifications"]}
    people = []
    for index, (slug, name, _description) in enumerate(ALL_SPECIALTIES):
        if existing_fits(slug):
            continue
        first, last = _FIRST[index % len(_FIRST)], _LAST[index % len(_LAST)]
        city = _CITIES[index % len(_CITIES)]
        people.append(
            {
                "email": f"{first}.{last}@demo.secondop.test".lower(),
                "name": f"Dr. {first} {last}",
                "specialty": slug,
                "specialty_name": name,
                "certification": mapping[slug][0],
                # The first categories the certification's ranges start with ("C50-C50" -> C50).
                "conditions": tuple(item.split("-")[0] for item in ranges[mapping[slug][0]][:2])
                or ("Z00",),
                "institution": f"{city} {name} Center",
                "languages": ("English", "Spanish") if index % 3 == 0 else ("English",),
            }
        )
    return people
