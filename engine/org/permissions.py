"""Who may do what, where: one table of capabilities.

Each capability names the roles that hold it and where a role must be granted for it
to reach a node: at the node or above (``subtree``), at the node itself (``own``: a
commissioner's own compound), at the node or below it (``within``: a resident of the
compound or of one of its buildings), or at the root of the org tree (``root``: the
district's 三方办). The route decorators, the header's navigation, the engine's services and the
API all ask :func:`can`; nothing else lists roles for access.

Finer rules that depend on a record rather than a place — an item's scope, a
summons' unit, a report's reviewer — stay with the record's service, which asks this
table for the place part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.org.actors import Actor, is_root

PARTIES = ("party", "committee", "property")
STAFF = ("commissioner", *PARTIES, "department", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")


@dataclass(frozen=True)
class Capability:
    """Roles that hold a capability, and where each must be granted to reach a node.

    :ivar roles: the roles, each reaching as ``at`` says unless ``reach`` overrides it.
    :ivar kinds: the node kinds it applies to (empty: any).
    """

    label: str
    roles: tuple[str, ...]
    at: str = "subtree"
    reach: Mapping[str, str] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()

    def reach_of(self, role: str) -> str:
        return self.reach.get(role, self.at)


CAPABILITIES: dict[str, Capability] = {
    "work": Capability("work on items and summons (/work)", STAFF),
    "resident": Capability("raise and follow one's own items (/r)", ("resident",)),
    "contacts": Capability(
        "a compound's contact card: names and phone numbers (/r/contacts)",
        ("resident",),
        at="within",
        kinds=("compound",),
    ),
    "supervise": Capability(
        "supervise: overdue board, urge, re-route, reassign (/review)", SUPERVISORS
    ),
    "dashboards": Capability(
        "dashboards and the index of an area",
        (*SUPERVISORS, "commissioner"),
        reach={"commissioner": "own"},
        kinds=("district", "street", "community", "compound"),
    ),
    "evaluation": Capability("department evaluation", (*SUPERVISORS, "department")),
    "live": Capability(
        "the live board of open urgent items with their clocks (/review/live)",
        (*SUPERVISORS, "department"),
    ),
    "lists.view": Capability(
        "a compound's checklists", ("commissioner", *PARTIES, *SUPERVISORS), kinds=("compound",)
    ),
    "lists.edit": Capability(
        "add and update checklist rows", ("commissioner", *PARTIES), kinds=("compound",)
    ),
    "lists.rollup": Capability(
        "checklist progress rolled up by area",
        SUPERVISORS,
        kinds=("district", "street", "community"),
    ),
    "kpi": Capability("the district's KPI list: report and review", (*SUPERVISORS, "department")),
    "profile.view": Capability(
        "read a compound file",
        ("commissioner", *PARTIES, *SUPERVISORS),
        reach={"commissioner": "own"},
        kinds=("compound",),
    ),
    "profile.edit": Capability(
        "edit a compound file",
        ("commissioner", *SUPERVISORS),
        reach={"commissioner": "own"},
        kinds=("compound",),
    ),
    "roster.view": Capability(
        "a compound's buildings and who is in charge of each (party member, building leader)",
        ("commissioner", "party", *SUPERVISORS),
        reach={"commissioner": "own"},
        kinds=("compound",),
    ),
    "roster.edit": Capability(
        "put a party member and a building leader in charge of each building",
        ("commissioner", "party"),
        reach={"commissioner": "own"},
        kinds=("compound",),
    ),
    "polls.view": Capability(
        "a compound's votes: participation by building and results",
        ("commissioner", *PARTIES, *SUPERVISORS),
        reach={"commissioner": "own"},
        kinds=("compound",),
    ),
    "polls.run": Capability(
        "open and close votes, enter paper and proxy ballots, remind voters",
        ("commissioner", "party", "committee"),
        reach={"commissioner": "own"},
        kinds=("compound",),
    ),
    "vote": Capability("vote for one's own units (/r)", ("resident",)),
    "decisions": Capability(
        "deliberation meetings and opinion collections of a compound, community or street",
        ("commissioner", *PARTIES, *SUPERVISORS),
        kinds=("street", "community", "compound"),
    ),
    "decisions.edit": Capability(
        "convene meetings, record minutes, open opinion collections (as the definition allows:"
        " a street's or community's joint meetings by its tripartite office)",
        ("commissioner", *PARTIES, *SUPERVISORS),
        kinds=("street", "community", "compound"),
    ),
    "disclosures": Capability(
        "a compound's statements of accounts: draft, confirm, oversee",
        ("commissioner", *PARTIES, *SUPERVISORS),
        kinds=("compound",),
    ),
    "cobuild": Capability(
        "needs and resources of an area: post and follow",
        ("commissioner", "party", "partner", *SUPERVISORS),
    ),
    "cobuild.match": Capability(
        "confirm a suggested match of a need and a resource", ("commissioner", *SUPERVISORS)
    ),
    "directories": Capability(
        "directories kept at areas: read, add, edit and retire entries (as each definition allows)",
        ("commissioner", *PARTIES, "partner", *SUPERVISORS),
    ),
    "import": Capability("import the org tree, files and households from Excel", SUPERVISORS),
    "admin": Capability("the tripartite office's pages (/admin)", ("admin",)),
    "design": Capability("design and publish definitions", ("admin",)),
    "packs": Capability("import and export whole packs", ("admin",), at="root"),
    "webhooks": Capability("webhook endpoints and their deliveries", ("admin",)),
    "tokens": Capability("API tokens of the users one administers", ("admin",)),
}


def capability(key: str) -> Capability:
    """:raises KeyError: no such capability (a typo in a route is a bug, not a refusal)."""
    return CAPABILITIES[key]


def _reaches(actor: Actor, role: str, how: str, node_path: str, node_id: int | None) -> bool:
    for grant in actor.grants:
        if grant.role != role:
            continue
        if how == "root" and is_root(grant.node_path):
            return True
        if how == "own" and node_id is not None and grant.node_id == node_id:
            return True
        if how == "subtree" and node_path.startswith(grant.node_path):
            return True
        if how == "within" and grant.node_path.startswith(node_path):
            return True
    return False


def can(actor: Actor | None, key: str, node: object | None = None) -> bool:
    """Whether ``actor`` holds capability ``key`` — anywhere, or at ``node`` (an org node).

    Without a node, holding one of the roles anywhere (at the root, for ``root``) is
    enough: the page then shows only what lies in the actor's reach.
    """
    if actor is None:
        return False
    cap = capability(key)
    if node is None:
        return any(
            g.role in cap.roles and (cap.reach_of(g.role) != "root" or is_root(g.node_path))
            for g in actor.grants
        )
    kind = getattr(node, "kind", None)
    if cap.kinds and kind not in cap.kinds:
        return False
    path, node_id = str(node.path), getattr(node, "id", None)
    return any(_reaches(actor, role, cap.reach_of(role), path, node_id) for role in cap.roles)


def roles_of(key: str) -> tuple[str, ...]:
    """The roles that hold ``key`` somewhere (what a route decorator admits)."""
    return capability(key).roles


def navigation(actor: Actor | None) -> dict[str, bool]:
    """Which areas the header links to: the capabilities the actor holds anywhere."""
    return {key: can(actor, key) for key in CAPABILITIES}
