"""One permission table (engine/org/permissions.py): every route names its capability, and
for every role the routes answer as the table says — in and out of scope."""

from __future__ import annotations

import pytest

from engine.org.actors import actor_for
from engine.org.permissions import CAPABILITIES, can
from engine.store.models import Grant, OrgNode, User

# auth.* is open to anyone (login, files checked per file) or to any signed-in user (their
# own notifications); the API and Open311 take tokens and are scoped per item by the query layer.
PUBLIC = {"static"}


def _view_capability(app, endpoint):
    return getattr(app.view_functions[endpoint], "capability", None)


def test_every_route_names_a_capability_of_the_table(app):
    missing, unknown = [], []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint in PUBLIC or endpoint.startswith(("api.", "auth.", "open311.")):
            continue
        key = _view_capability(app, endpoint)
        if key is None:
            missing.append(endpoint)
        elif key not in CAPABILITIES:
            unknown.append((endpoint, key))
    assert missing == [] and unknown == []


def _users():
    return [u.username for u in User.select().join(Grant).distinct().order_by(User.username)]


def test_every_role_gets_what_the_table_says_on_every_plain_route(app, client, auth):
    """Every GET route without parameters, for every seeded user: 403 exactly when the
    table says the user holds its capability nowhere."""
    routes = [
        (r.rule, r.endpoint)
        for r in app.url_map.iter_rules()
        if "GET" in r.methods and not r.arguments and _view_capability(app, r.endpoint)
    ]
    assert len(routes) >= 15
    wrong = []
    for username in _users():
        actor = actor_for(User.get(User.username == username))
        auth.login(username)
        for path, endpoint in routes:
            status = client.get(path).status_code
            allowed = can(actor, _view_capability(app, endpoint))
            if (status == 403) == allowed or status >= 500:
                wrong.append((username, path, status, allowed))
        auth.logout()
    assert wrong == []


AREA_PAGES = [
    ("/review/n/{key}", "dashboards"),
    ("/lists/c/{key}", "lists.view"),
    ("/lists/c/{key}/profile", "profile.view"),
    ("/lists/rollup/{key}", "lists.rollup"),
    ("/polls/c/{key}", "polls.view"),
]


@pytest.mark.parametrize(
    "username",
    [
        "xifang",
        "lvzhouhuayuan-wy",
        "chaohui-ducha",
        "ducha",
        "admin",
        "dept-zhifa-user",
        "lvzhou-yezhu1",
    ],
)
def test_area_pages_open_exactly_where_the_table_says(app, client, auth, username):
    """In and out of scope: a node page opens (200) only at nodes where the user holds
    the capability; elsewhere it is refused (403/404) without saying more."""
    actor = actor_for(User.get(User.username == username))
    nodes = list(
        OrgNode.select()
        .where(OrgNode.kind.in_(["district", "street", "community", "compound"]))
        .order_by(OrgNode.id)
    )
    auth.login(username)
    wrong = []
    for node in nodes[:: max(1, len(nodes) // 12)] + [
        n for n in nodes if n.key in ("lvzhouhuayuan", "chaohui")
    ]:
        for pattern, key in AREA_PAGES:
            status = client.get(pattern.format(key=node.key)).status_code
            allowed = can(actor, key, node)
            if (status == 200) != allowed or status >= 500:
                wrong.append((pattern, node.key, node.kind, status, allowed))
    assert wrong == []


def test_deliberation_records_open_exactly_where_the_table_says(app, client, auth):
    """A compound's meeting and opinion collection (议事会, 征求意见), for every seeded user:
    the staff pages open where ``decisions`` reaches the compound, the resident's answer
    page for its residents; elsewhere 403 (nowhere) or 404 (out of scope)."""
    from engine.core import clock
    from engine.decisions import meetings, opinions

    party = actor_for(User.get(User.username == "lvzhouhuayuan-dzz"))
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    meeting = meetings.convene(
        party,
        "tea-meeting",
        node.key,
        {"title": "议事", "held_at": "2026-11-27T19:00", "agenda": "停车"},
        now=clock.now(),
    )
    collection = opinions.open_collection(
        party, "opinion", node.key, {"title": "征求意见"}, now=clock.now()
    )
    pages = [
        (f"/work/meetings/{meeting.id}", "decisions"),
        (f"/work/opinions/{collection.id}", "decisions"),
        (f"/r/opinions/{collection.id}", "resident"),
    ]
    wrong = []
    for username in _users():
        actor = actor_for(User.get(User.username == username))
        auth.login(username)
        for path, key in pages:
            status = client.get(path).status_code
            expected = 200 if can(actor, key, node) else 404 if can(actor, key) else 403
            if status != expected:
                wrong.append((username, path, status, expected))
        auth.logout()
    assert wrong == []
