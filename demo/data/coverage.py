"""Demo specialists so that every specialty a patient can choose has someone who
practises it, with a verified licence, in the ten most populous states: the
demo's matching then shows real answers for any ordinary case, not only for the
demo patients' own. Each is board-certified in the first certification the
specialty means (specialists/data/abms_certifications.json, "specialties")."""

import datetime

from demo.data.specialists import SPECIALISTS, DemoSpecialist, P, V, W
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
    specialist already covers in all ten states; plain data for the next function."""
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


def coverage_demo_specialists(today: datetime.date) -> list[DemoSpecialist]:
    """A specialist for every specialty on the patient's list not yet covered
    in the ten most populous states; two of them have a licence waiting to be
    verified and one a licence expiring in 40 days (the credentialing page)."""

    def covered(slug: str) -> bool:
        return any(
            slug in spec.specialties
            and set(TOP_TEN_STATES) <= {state for state, _ in spec.licences}
            for spec in SPECIALISTS
        )

    people = []
    for n, person in enumerate(coverage_specialists(covered)):
        # Relative to today, so the demo's promises hold whenever it is seeded.
        licences = tuple(
            (state, today + datetime.timedelta(days=420 + 37 * ((i + n) % 10)))
            for i, state in enumerate(TOP_TEN_STATES)
        )
        if n in (1, 2):  # a licence beyond the ten, waiting to be verified
            licences = (*licences, ("CO", today + datetime.timedelta(days=500)))
        if n == 0:
            licences = ((licences[0][0], today + datetime.timedelta(days=40)), *licences[1:])
        people.append(
            DemoSpecialist(
                person["email"],
                person["name"],
                "MD",
                (person["specialty"],),
                person["specialty_name"],
                person["institution"],
                person["languages"],
                person["conditions"],
                ((person["certification"], 2005 + n % 12),),
                licences,
                (W, V, P),
                f"{person['name']} practises {person['specialty_name']} at "
                f"{person['institution']} and gives second opinions to patients across the "
                "country.",
                turnaround_days=5 + n % 4,
                unverified=("CO",) if n in (1, 2) else (),
            )
        )
    return people
