"""The demo's building roster (一名党员一幢楼, 楼栋长): at each compound with buildings in
the org tree, its commissioner or party organisation puts a party member and a building
leader in charge of most buildings, through the same service as the page.

Each compound draws from its own generator, so the district's other draws stay as they were.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from engine.org.actors import actor_for
from engine.records import buildings
from engine.store.models import Grant, OrgNode, User

SHARES = (1.0, 1.0, 0.85, 0.7, 0.5, 0.3)  # how many of a compound's buildings get someone


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "158", "186", "137")) + f"{rng.randrange(10**8):08d}"


def fill(person: Callable[[random.Random], str], *, now: dt.datetime) -> int:
    """Assign people to the buildings of every compound whose roster is still empty; the
    number of buildings assigned."""
    roster = buildings.roster_for("compound")
    if roster is None:
        return 0
    files = buildings.building_files()
    assigned = 0
    for compound in OrgNode.select().where(OrgNode.id.in_(list(files))).order_by(OrgNode.id):
        if any(f.get(r.key) for f in files[compound.id] for r in roster.roles):
            continue  # assigned before (an earlier demo, the import, a person)
        user = (
            User.select()
            .join(Grant)
            .where((Grant.node == compound.id) & Grant.role.in_(("party", "commissioner")))
            .order_by(Grant.role.desc(), Grant.id)  # the party organisation first
            .first()
        )
        if user is None:
            continue
        actor = actor_for(user)
        rng = random.Random(f"buildings:{compound.key}")
        share = rng.choice(SHARES)
        for building in buildings.buildings_of(compound):
            answers = {}
            for role in roster.roles:
                if rng.random() < share:
                    answers[role.key] = person(rng)
                    answers[f"{role.key}_phone"] = _phone(rng)
            if answers:
                buildings.assign(actor, compound, building.key, answers, expected=None, now=now)
                assigned += 1
    return assigned
