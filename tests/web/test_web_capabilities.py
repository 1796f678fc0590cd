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


def test_statement_and_listing_pages_open_exactly_for_who_may_read_them(app, client, auth):
    """A compound's statement (经营性收支公示) and a help listing, for every seeded user: the
    staff page for who drafts, confirms or oversees statements there, the resident page for
    the compound's residents; the listing for who is granted inside its compound."""
    import datetime as dt

    from engine.residents import disclosures, listings

    now = dt.datetime(2026, 10, 10, 2, 0)
    node = OrgNode.get(OrgNode.key == "lvzhouhuayuan")
    wy = actor_for(User.get(User.username == "lvzhouhuayuan-wy"))
    st = disclosures.start(wy, "operating-accounts", node, "2026-Q3", now=now)
    disclosures.add_line(
        wy, st, {"section": "income", "category": "广告", "label": "广告", "amount": "1"}, now=now
    )
    disclosures.submit(wy, st, now=now)
    disclosures.confirm(actor_for(User.get(User.username == "lvzhouhuayuan-ywh")), st, now=now)
    resident = actor_for(User.get(User.username == "lvzhou-yezhu1"))
    data = {"category": "其他", "summary": "帮忙搬一下柜子"}
    posted = listings.post(resident, "neighbour-help", "request", node, data, now=now)
    body = disclosures.body_of(st)
    wrong, seen = [], set()
    for username in _users():
        actor = actor_for(User.get(User.username == username))
        staff = can(actor, "disclosures") and (
            can(actor, "disclosures", node)
            or disclosures.may_draft(actor, body, node.path)
            or disclosures.may_confirm(actor, body, node.path)
        )
        expected = {
            f"/work/accounts/{st.id}": staff,
            f"/r/accounts/{st.id}": can(actor, "resident")
            and disclosures.is_resident_of(actor, node.path),
            f"/r/help/{posted.id}": can(actor, "resident")
            and listings.may_see(actor, posted, listings.body_of(posted)),
        }
        auth.login(username)
        for path, allowed in expected.items():
            seen.add((path, allowed))
            status = client.get(path).status_code
            if (status == 200) != allowed or status >= 500:
                wrong.append((username, path, status, allowed))
        auth.logout()
    assert wrong == []
    assert len(seen) == 6  # someone in and someone out for each of the three pages
