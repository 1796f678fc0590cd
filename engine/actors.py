"""Who is acting: a user with role grants at nodes of the org tree."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.models import Grant, OrgNode, User


@dataclass(frozen=True)
class RoleGrant:
    role: str
    node_id: int
    node_key: str
    node_path: str
    node_kind: str


@dataclass(frozen=True)
class Actor:
    """A user and the roles they hold; engine functions take this, never the request."""

    user: User
    grants: tuple[RoleGrant, ...] = field(default_factory=tuple)

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def reaches(self, role: str, node_path: str) -> bool:
        """Whether ``role`` is held at ``node_path`` or one of its ancestors."""
        return any(g.role == role and node_path.startswith(g.node_path) for g in self.grants)

    def roles_at(self, node_path: str) -> set[str]:
        """The roles that reach the node at ``node_path``."""
        return {g.role for g in self.grants if node_path.startswith(g.node_path)}

    def grants_for(self, role: str) -> list[RoleGrant]:
        return [g for g in self.grants if g.role == role]


def admin_paths(actor: Actor) -> list[str]:
    """The subtrees ``actor`` administers (admin grants)."""
    return [g.node_path for g in actor.grants_for("admin")]


def is_district_admin(actor: Actor) -> bool:
    """An admin granted at the root of the org tree (the district's 三方办)."""
    return any(path.count("/") <= 2 for path in admin_paths(actor))


def actor_for(user: User) -> Actor:
    """Load ``user``'s grants (one query)."""
    rows = (
        Grant.select(Grant.role, OrgNode.id, OrgNode.key, OrgNode.path, OrgNode.kind)
        .join(OrgNode)
        .where(Grant.user == user)
        .tuples()
    )
    return Actor(user, tuple(RoleGrant(*row) for row in rows))
