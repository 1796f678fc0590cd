"""Login, logout and sessions: redirects stay on the site, a logged-out cookie is dead,
a new password ends sessions and tokens, the throttle counts per account and address."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.accounts.users import upsert_user
from engine.core import clock
from engine.store.models import Event, Token, User
from pages.auth import safe_next

# Each of these, as a redirect target, sends a browser to another site (or is no path).
NASTY = [
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "/\\/evil.example",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example",
    "/ /evil.example",
    " //evil.example",
    "//evil.example/%2F..",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5C/evil.example",
    "/%09/evil.example",
    "%2F%2Fevil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "./x",
    "",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\u3000/evil.example",
    "/\u200b/evil.example",
    "/\u202e/evil.example",
    "\t/work/",
    "/work/\n",
    "/" + "a" * 3000,
]
GOOD = [
    "/",
    "/work/",
    "/work/items/3",
    "/review/?q=%E5%B0%8F&page=2",
    "/lists/c/lvzhouhuayuan#top",
    "/r/?a=b/c//d",
]


@pytest.mark.parametrize("target", NASTY)
def test_safe_next_refuses_what_leaves_the_site(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", GOOD)
def test_safe_next_keeps_paths_on_the_site(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", NASTY)
def test_login_never_redirects_off_site(client, target):
    response = client.post(
        "/login", query_string={"next": target}, data={"username": "xifang", "password": "demo1234"}
    )
    if "\0" in target:  # a NUL is refused at the door, before any redirect (test_web_badinput)
        assert response.status_code == 422 and "Location" not in response.headers
        return
    assert response.status_code == 303
    assert response.headers["Location"] == "/work/"


def test_login_follows_a_path_on_the_site(client):
    response = client.post(
        "/login?next=/work/items/1", data={"username": "xifang", "password": "demo1234"}
    )
    assert response.headers["Location"] == "/work/items/1"


@pytest.mark.parametrize("target", ["/\t/evil.example/", "//evil.example", "https://evil.example/"])
def test_urge_form_next_stays_on_site(client, auth, target):
    auth.login("ducha")
    response = client.post("/review/items/1/urge", data={"message": "", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/work/items/1"


@pytest.mark.parametrize(
    "referrer, expected",
    [
        ("https://evil.example/x", "/lists/kpi"),
        ("http://localhost//evil.example/", "/lists/kpi"),
        ("http://localhost/lists/kpi/tasks-2026?x=1", "/lists/kpi/tasks-2026?x=1"),
    ],
)
def test_kpi_review_goes_back_only_to_this_site(client, auth, actor_of, referrer, expected):
    """A refused review (here: already reviewed) goes back where the reviewer came from."""
    from engine.records import kpi_reports
    from engine.store.models import OrgNode
    from tests.conftest import NOW

    found = kpi_reports.report(
        actor_of("dept-zhifa-user"),
        "tasks-2026",
        "whistle-system",
        OrgNode.get(OrgNode.key == "dept-zhifa"),
        "已建立吹哨报到机制",
        [],
        now=NOW,
    )
    kpi_reports.review(actor_of("dept-zzb-user"), found.id, True, "", now=NOW)
    auth.login("dept-zzb-user")
    response = client.post(
        f"/lists/kpi/review/{found.id}", data={"decision": "accept"}, headers={"Referer": referrer}
    )
    assert response.status_code == 303 and response.headers["Location"] == expected


def _cookie(client):
    return client.get_cookie("session").value


def test_a_saved_cookie_is_dead_after_logout(app, client, auth):
    auth.login("xifang")
    saved = _cookie(client)
    assert client.get("/work/").status_code == 200
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/work/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_only_that_session(app, client, auth):
    other = app.test_client()
    other.post("/login", data={"username": "xifang", "password": "demo1234"})
    auth.login("xifang")
    auth.logout()
    assert other.get("/work/").status_code == 200  # a shared account's other browser stays in


def test_a_new_password_ends_sessions_and_tokens(app, client, auth, token_for):
    auth.login("xifang")
    headers = token_for("xifang")
    assert client.get("/api/v1/items", headers=headers).status_code == 200
    upsert_user("xifang", "席芳", "a-new-password", now=clock.now())
    assert client.get("/work/").status_code == 302
    assert client.get("/api/v1/items", headers=headers).status_code == 401
    assert (
        client.post("/login", data={"username": "xifang", "password": "demo1234"}).status_code
        == 401
    )
    assert (
        client.post("/login", data={"username": "xifang", "password": "a-new-password"}).status_code
        == 303
    )
    event = Event.select().where(Event.action == "user.password").get()
    assert event.after == {"sessions_ended": 1, "tokens_revoked": 1}


def test_sessions_expire(app, client, auth, monkeypatch):
    auth.login("xifang")
    later = clock.now() + dt.timedelta(hours=app.config["SESSION_HOURS"], minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert client.get("/work/").status_code == 302


def test_a_deactivated_user_is_logged_out(client, auth):
    auth.login("xifang")
    User.update(active=False).where(User.username == "xifang").execute()
    assert client.get("/work/").status_code == 302


def _attempt(client, username, password, address):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_throttle_locks_the_account_from_that_address_only(client):
    for _ in range(5):
        assert _attempt(client, "xifang", "wrong", "203.0.113.9").status_code == 401
    locked = _attempt(client, "xifang", "demo1234", "203.0.113.9")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == 15 * 60
    # The owner, elsewhere, is not locked out by someone guessing at their account.
    assert _attempt(client, "xifang", "demo1234", "198.51.100.7").status_code == 303


def test_throttle_limits_one_address_across_accounts(app, client):
    app.config["LOGIN_MAX_ATTEMPTS_PER_ADDRESS"] = 8
    users = [u.username for u in User.select().order_by(User.id).limit(9)]
    for username in users[:8]:
        assert _attempt(client, username, "wrong", "203.0.113.9").status_code == 401
    assert _attempt(client, users[8], "demo1234", "203.0.113.9").status_code == 429
    assert _attempt(client, users[8], "demo1234", "203.0.113.10").status_code == 303


def test_throttle_counts_an_ipv6_client_by_its_64(app, client):
    app.config["LOGIN_MAX_ATTEMPTS_PER_ADDRESS"] = 3
    for n in range(3):
        assert _attempt(client, f"nobody{n}", "wrong", f"2001:db8:1:2::{n + 1}").status_code == 401
    assert _attempt(client, "nobody9", "wrong", "2001:db8:1:2:ffff::9").status_code == 429


def test_a_successful_login_is_not_counted_against_the_address(app, client):
    app.config["LOGIN_MAX_ATTEMPTS_PER_ADDRESS"] = 3
    for _ in range(6):  # an office behind one address: people log in all day
        assert _attempt(client, "xifang", "demo1234", "203.0.113.9").status_code == 303


def test_the_throttle_window_passes(client, monkeypatch):
    for _ in range(5):
        _attempt(client, "xifang", "wrong", "203.0.113.9")
    later = clock.now() + dt.timedelta(minutes=16)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert _attempt(client, "xifang", "demo1234", "203.0.113.9").status_code == 303


# --- API tokens -------------------------------------------------------------------


def _token(username, *, days=90, label="", now=None):
    from engine.accounts.tokens import create_token

    return create_token(username, label, now=now or clock.now(), lifetime=dt.timedelta(days=days))


def test_expired_and_revoked_tokens_are_refused(client):
    from engine.accounts.tokens import revoke_token

    old = _token("xifang", days=1, now=clock.now() - dt.timedelta(days=2))
    assert (
        client.get("/api/v1/items", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    )
    live = _token("xifang", label="phone")
    assert (
        client.get("/api/v1/items", headers={"Authorization": f"Bearer {live}"}).status_code == 200
    )
    token = Token.get(Token.label == "phone")
    assert token.last_used_at is not None and token.digest != live and live not in token.digest
    revoke_token(token.id, now=clock.now())
    assert (
        client.get("/api/v1/items", headers={"Authorization": f"Bearer {live}"}).status_code == 401
    )


def test_token_cli_creates_lists_and_revokes(runner):
    made = runner.invoke(args=["token", "create", "xifang", "--label", "ci", "--days", "7"])
    assert made.exit_code == 0, made.output
    secret = made.output.strip()
    listed = runner.invoke(args=["token", "list"])
    assert listed.exit_code == 0 and "xifang\tci\t" in listed.output and "live" in listed.output
    assert secret not in listed.output
    token = Token.get(Token.label == "ci")
    assert token.expires_at - token.created_at == dt.timedelta(days=7)
    revoked = runner.invoke(args=["token", "revoke", str(token.id)])
    assert revoked.exit_code == 0 and Token.get_by_id(token.id).revoked
    assert "revoked" in runner.invoke(args=["token", "list", "--user", "xifang"]).output
    assert runner.invoke(args=["token", "revoke", "999999"]).exit_code == 1
    assert runner.invoke(args=["token", "create", "xifang", "--days", "0"]).exit_code == 2
    actions = [e.action for e in Event.select().where(Event.target == "user:xifang")]
    assert "token.create" in actions and "token.revoke" in actions


def test_admins_see_and_revoke_the_tokens_of_their_subtree_only(client, auth):
    upsert_user(
        "chaohui-admin",
        "朝晖管理员",
        "demo1234",
        [{"role": "admin", "node": "chaohui"}],
        now=clock.now(),
    )
    _token("xifang", label="xifang-phone")  # commissioner in 朝晖
    _token("changzhengqiaolu-zy", label="cz-phone")  # a compound of another street
    _token("ducha", label="district-phone")  # the district supervisor
    theirs = Token.get(Token.label == "cz-phone")
    auth.login("chaohui-admin")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "xifang-phone" in page and "cz-phone" not in page and "district-phone" not in page
    assert "sf_" not in page
    assert client.post(f"/admin/tokens/{theirs.id}/revoke").status_code == 404
    assert not Token.get_by_id(theirs.id).revoked
    mine = Token.get(Token.label == "xifang-phone")
    assert client.post(f"/admin/tokens/{mine.id}/revoke").status_code == 303
    assert Token.get_by_id(mine.id).revoked
    event = Event.select().where(Event.action == "token.revoke").get()
    assert event.actor.username == "chaohui-admin" and event.target == "user:xifang"
    auth.logout()
    auth.login("admin")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert all(label in page for label in ("xifang-phone", "cz-phone", "district-phone"))


def test_non_admins_get_no_token_page(client, auth):
    auth.login("ducha")
    assert client.get("/admin/tokens").status_code == 403
