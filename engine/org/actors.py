"""Who is acting: a user with role grants at nodes of the org tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peewee import JOIN

from engine.store.models import Grant, OrgNode, User


@dataclass(frozen=True)
class RoleGrant:
    role: str
    node_id: int
    node_key: str
    node_path: str
    node_kind: str
    node_name: str = ""  # for people: a user granted at several places sees which


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


def is_root(node_path: str) -> bool:
    """Whether ``node_path`` is the root of the org tree (the district): "/1/"."""
    return node_path.count("/") <= 2


def is_district_admin(actor: Actor) -> bool:
    """An admin granted at the root of the org tree (the district's 三方办)."""
    return any(is_root(path) for path in admin_paths(actor))


GRANT_WIDTH = 6  # actor_query's grant columns: role, node id, key, path, kind, name


def actor_for(user: User) -> Actor:
    """Load ``user``'s grants (one query)."""
    rows = (
        Grant.select(Grant.role, OrgNode.id, OrgNode.key, OrgNode.path, OrgNode.kind, OrgNode.name)
        .join(OrgNode)
        .where(Grant.user == user)
        .tuples()
    )
    return Actor(user, tuple(RoleGrant(*row) for row in rows))


def actor_query(which: Any, *extra: Any) -> Any:
    """Active users matching ``which`` (a condition on ``User``) with their grants, as
    tuples: the user's columns, role and node (NULL when the user holds none), then
    ``extra`` columns."""
    grant = Grant.alias()
    node = OrgNode.alias()
    return (
        User.select(User, grant.role, node.id, node.key, node.path, node.kind, node.name, *extra)
        .join(grant, JOIN.LEFT_OUTER, on=(grant.user == User.id))
        .join(node, JOIN.LEFT_OUTER, on=(grant.node == node.id))
        .where(which & User.active)
        .order_by(grant.id)
        .tuples()
    )


def actor_from(rows: Any) -> Actor | None:
    """The actor of ``actor_query``'s rows (one user's), None when there are none."""
    width = len(User._meta.sorted_fields)
    user: User | None = None
    grants: list[RoleGrant] = []
    for row in rows:
        if user is None:
            user = User(**dict(zip(User._meta.sorted_field_names, row[:width], strict=True)))
            user._dirty.clear()
        if row[width] is not None and row[width + 1] is not None:
            grants.append(RoleGrant(*row[width : width + GRANT_WIDTH]))
    return None if user is None else Actor(user, tuple(grants))


def extra_values(row: Any) -> tuple[Any, ...]:
    """The ``extra`` columns of one of ``actor_query``'s rows (after the user's and the grant's)."""
    return tuple(row[len(User._meta.sorted_fields) + GRANT_WIDTH :])


def active_actor(user_id: int | None = None, *, among: Any = None) -> Actor | None:
    """The active user ``user_id`` (or the one user of ``among``, a query of user ids such
    as a live login session's) with their grants, in one query; None when there is no
    such active user."""
    which = (User.id == user_id) if among is None else User.id.in_(among)
    return actor_from(actor_query(which))
