"""Bad input is refused at the door with a 4xx naming it, never a 500 (issue 9, finding 12):
integers past a 64-bit column, the calendar's ends, JSON nested too deep, damaged zips,
a designer draft too deep to edit, a ``set`` effect the column cannot hold, sheet names
Excel refuses."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

from engine.authoring import designer
from engine.authoring.publishing import publish
from engine.core.limits import MAX_JSON_DEPTH, too_deep
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version, known_roles, known_units
from engine.store.models import Definition, Pack, RuleFailure
from engine.workflow import items
from forms.builder import parse_value
from pages.xlsx import sheet_title, workbook
from tests.conftest import NOW

HUGE = "99999999999999999999"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    "path",
    [
        f"/work/items/{HUGE}",
        f"/work/items/{2**63}",
        f"/work/items/{HUGE}/t/accept",
        f"/lists/row/{HUGE}",
        f"/notifications/{HUGE}",
        f"/admin/deliveries/{HUGE}",
        f"/admin/definitions/bell/v/{HUGE}",
    ],
)
def test_ids_past_a_64_bit_column_are_not_found(client, auth, path):
    auth.login("admin")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", [f"/api/v1/items/{HUGE}", f"/api/v1/items/{2**63}/timeline"])
def test_the_api_answers_huge_ids_with_a_json_404(client, token_for, path):
    response = client.get(path, headers=token_for("xifang"))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("page", [HUGE, "false", "-1", "0", "1.5", "１２", "1000001"])
def test_page_must_be_a_whole_number_in_range(client, auth, token_for, page):
    response = client.get("/api/v1/items", query_string={"page": page}, headers=token_for("xifang"))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["path"] == "page"
    auth.login("xifang")
    assert client.get("/work/", query_string={"page": page}).status_code == 422


def test_a_huge_version_or_lock_in_a_form_is_refused(client, auth):
    auth.login("admin")
    assert (
        client.post(
            "/review/reassign", data={"from": "xifang", "to": "xifang", "items": [HUGE, "²"]}
        ).status_code
        < 500
    )
    auth.login("xifang")
    assert client.post("/work/summons/1/report_in", data={"item": HUGE}).status_code < 500


@pytest.mark.parametrize(
    "args",
    [
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"from": "2026-01-01", "to": "9999-12-31"},
        {"from": "0001-01-01", "to": "2026-01-01"},
        {"from": "0001-01-01", "to": "0001-01-01"},
    ],
)
def test_evaluation_periods_at_the_calendars_ends_fall_back_to_this_quarter(client, auth, args):
    auth.login("admin")
    page = client.get("/review/evaluation", query_string=args)
    assert page.status_code == 200 and "2026-10-01" in page.get_data(as_text=True)
    assert "1900-01-01" in page.get_data(as_text=True)  # the message names the range
    assert client.get("/review/evaluation.xlsx", query_string=args).status_code == 200
    assert client.get("/review/evaluation/dept-gaj/summoned", query_string=args).status_code == 200


def test_a_json_body_nested_too_deep_is_a_400(client, token_for, auth):
    headers = token_for("xifang")
    for body in (
        deep(1000),
        deep(MAX_JSON_DEPTH + 1),
        '{"type": "bell", "data": ' + deep(200) + "}",
    ):
        response = client.post(
            "/api/v1/items", data=body, content_type="application/json", headers=headers
        )
        assert response.status_code == 400, body[:30]
        assert response.get_json()["error"]["code"] == "malformed_json"
    # Form pages read a JSON body through request.get_json (Flask-WTF): a 400 there too.
    assert (
        client.post("/login", data=deep(1000), content_type="application/json").status_code == 400
    )
    auth.login("admin")
    assert (
        client.post(
            "/admin/webhooks/new", data=deep(1000), content_type="application/json"
        ).status_code
        == 400
    )


def test_nul_characters_are_refused_at_the_door(client, auth, token_for):
    headers = token_for("xifang")
    response = client.get("/api/v1/items", query_string={"node": "a\x00b"}, headers=headers)
    assert (
        response.status_code == 422 and response.get_json()["error"]["fields"][0]["path"] == "node"
    )
    response = client.post("/api/v1/items", json={"type": "bell\x00", "node": "x"}, headers=headers)
    assert (
        response.status_code == 400 and response.get_json()["error"]["fields"][0]["path"] == "/type"
    )
    response = client.post("/api/v1/items", json={"type": "bell", "\x00": 1}, headers=headers)
    assert (
        response.status_code == 400 and response.get_json()["error"]["fields"][0]["path"] == "/\\0"
    )
    assert client.post("/login", data={"username": "\x00", "password": "x"}).status_code == 422
    auth.login("admin")
    assert client.get("/admin/designer/bell%00/json").status_code == 422


def test_too_deep_names_the_place():
    assert too_deep(json.loads(deep(MAX_JSON_DEPTH))) is None
    assert too_deep({"a": [{"b/c": json.loads(deep(MAX_JSON_DEPTH))}]}) == "/a/0/b~1c" + "/0" * (
        MAX_JSON_DEPTH - 3
    )


def _damaged_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pack.json", json.dumps({"key": "x", "words": ["治理"] * 2000}))
    data = bytearray(buffer.getvalue())
    start = 30 + len("pack.json")  # the deflate stream after the local header
    data[start + 10 : start + 60] = b"\xff" * 50
    return bytes(data)


@pytest.mark.parametrize(
    "data", [_damaged_zip(), _damaged_zip()[:200], b"PK\x03\x04" + b"\x00" * 100]
)
def test_a_damaged_zip_is_refused_with_a_message(client, auth, data):
    auth.login("admin")
    response = client.post(
        "/admin/designer/packs/import",
        data={"pack": (io.BytesIO(data), "x.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "zip" in response.get_data(as_text=True)


def test_a_damaged_xlsx_import_is_refused(client, auth):
    auth.login("admin")
    good = workbook("org", ["key"], [["x"]])
    for data in (good[: len(good) // 2], _damaged_zip(), good[:100] + b"\x00" * 300 + good[400:]):
        response = client.post(
            "/import/org",
            data={"file": (io.BytesIO(data), "org.xlsx")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422


def test_exporting_an_unknown_pack_is_not_found(client, auth):
    auth.login("admin")
    assert client.get("/admin/designer/packs/nope.zip").status_code == 404


# The designer: a value nested too deep is refused at save; a draft stored so before
# (when nothing refused it) leaves every page working and can be discarded.
def test_the_json_view_refuses_a_draft_nested_too_deep(client, auth):
    auth.login("admin")
    body = designer.draft_of(Definition.get(Definition.key == "bell"))
    for value in (json.loads(deep(150)), json.loads(deep(900))):
        body["deep"] = value
        response = client.post("/admin/designer/bell/json", data={"body": json.dumps(body)})
        assert response.status_code == 422
        assert "100" in response.get_data(as_text=True)
    assert client.post("/admin/designer/bell/json", data={"body": deep(5000)}).status_code == 422
    assert "deep" not in designer.draft_of(Definition.get(Definition.key == "bell"))


@pytest.mark.parametrize("levels", [150, 900])
def test_a_stored_draft_too_deep_breaks_no_page(client, auth, levels):
    definition = Definition.get(Definition.key == "bell")
    body = copy.deepcopy(current_version(definition).body)
    body["deep"] = json.loads(deep(levels))
    Definition.update(draft=body).where(Definition.id == definition.id).execute()
    auth.login("admin")
    assert client.get("/admin/designer/").status_code == 200
    for tab in ("form", "workflow", "routing", "publish", "history", "json"):
        response = client.get(f"/admin/designer/bell/{tab}")
        assert response.status_code == 409, tab
        assert "/admin/designer/bell/discard" in response.get_data(as_text=True)
    assert client.post("/admin/designer/bell/publish").status_code == 409
    assert client.post("/admin/designer/bell/discard").status_code == 303
    assert client.get("/admin/designer/bell/workflow").status_code == 200
    assert Definition.get_by_id(definition.id).draft is None


def test_pack_validation_refuses_a_definition_nested_too_deep():
    body = {"kind": "item_type", "key": "x", "deep": json.loads(deep(300))}
    problems = definition_problems(body, roles=[], units=[])
    assert len(problems) == 1 and problems[0].path.startswith("/deep/0/0")


# A `set` effect: what it writes must fit the column. A value written as is is checked
# when the definition is validated; one a rule computes is checked when it runs.
@pytest.mark.parametrize(
    ("target", "value"),
    [
        ("priority", "高"),
        ("priority", 10),
        ("priority", 2.5),
        ("priority", [1]),
        ("priority", 10**30),
        ("satisfaction", 0),
        ("satisfaction", True),
        ("satisfaction", "5"),
    ],
)
def test_validation_refuses_a_set_the_column_cannot_hold(app, target, value):
    body = copy.deepcopy(current_version("bell").body)
    body["workflow"]["transitions"][0].setdefault("effects", []).append({"set": {target: value}})
    problems = definition_problems(body, roles=known_roles(), units=known_units())
    assert [p.path for p in problems] == [
        f"/workflow/transitions/0/effects/{len(body['workflow']['transitions'][0]['effects']) - 1}/set/{target}"
    ]


@pytest.mark.parametrize("value", [3, 2.0, None])
def test_validation_accepts_a_set_that_fits(app, value):
    body = copy.deepcopy(current_version("bell").body)
    body["workflow"]["transitions"][0].setdefault("effects", []).append(
        {"set": {"priority": value}}
    )
    assert definition_problems(body, roles=known_roles(), units=known_units()) == []


def test_a_set_computed_to_a_value_the_column_cannot_hold_is_a_rule_failure(app, actor_of):
    body = copy.deepcopy(current_version("bell").body)
    accept = next(t for t in body["workflow"]["transitions"] if t["key"] == "accept")
    accept.setdefault("effects", []).append(
        {"set": {"priority": {"var": "data.summary"}, "data.note": "ok"}}
    )
    publish(Pack.get(), body, now=NOW, by=None)
    raised = items.raise_item(
        actor_of("lvzhou-yezhu1"),
        "bell",
        "lvzhouhuayuan",
        {"category": "治安", "summary": "夜间巡逻不到位"},
        now=NOW,
    )
    item = items.transition(actor_of("xifang"), raised.id, "accept", expected=1, now=NOW)
    assert item.state != raised.state and item.priority == 0 and item.data["note"] == "ok"
    failure = RuleFailure.get(RuleFailure.item == item.id)
    assert failure.where == "set/priority" and "whole number from 0 to 9" in failure.message


def test_the_workflow_editor_keeps_non_numbers_as_text():
    for text in ("inf", "-inf", "nan", "1e999"):
        assert parse_value(text, "integer") == text
    assert parse_value("3", "integer") == 3


def test_the_workflow_editor_refuses_a_priority_set_to_text(client, auth):
    from tests.web.test_web_designer import form_values

    auth.login("admin")
    panel = "/admin/designer/bell/workflow/transition/0"
    values = form_values(client.get(panel).get_data(as_text=True))
    values.update(
        {"tr-0-set-0-target": "priority", "tr-0-set-0-source": "const", "tr-0-set-0-const": "高"}
    )
    assert client.post(panel, data=values).status_code == 303
    response = client.post("/admin/designer/bell/publish")
    assert response.status_code == 422
    assert "优先级必须是 0 到 9 之间的整数（或留空），不能是“”" in response.get_data(as_text=True)


@pytest.mark.parametrize("title", ["治理/台账", "a[1]:b*c?d\\e", "x" * 40, "'引号'", "", "\x07"])
def test_sheet_names_excel_refuses_are_made_safe(title):
    name = sheet_title(title)
    assert name and len(name) <= 31 and not set(name) & set("[]:*?/\\") and not name.startswith("'")
    book = load_workbook(io.BytesIO(workbook(title, ["a"], [[1]])))
    assert book.sheetnames == [name]


def test_a_405_says_what_is_allowed(client, token_for, auth):
    response = client.delete("/api/v1/items", headers=token_for("xifang"))
    assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) >= {
        "GET",
        "POST",
    }
    auth.login("xifang")
    assert "GET" in client.put("/work/").headers["Allow"]


def test_the_api_refuses_query_parameters_it_does_not_describe(client, token_for):
    response = client.get("/api/v1/items", query_string={"pgae": "2"}, headers=token_for("xifang"))
    assert (
        response.status_code == 400 and response.get_json()["error"]["fields"][0]["path"] == "pgae"
    )


def test_the_api_item_list_carries_the_answers(client, token_for):
    headers = token_for("xifang")
    client.post(
        "/api/v1/items",
        headers=headers,
        json={
            "type": "bell",
            "node": "lvzhouhuayuan",
            "data": {"category": "治安", "summary": "夜间巡逻不到位"},
        },
    )
    listed = client.get("/api/v1/items", headers=headers).get_json()["items"]
    assert listed and all(isinstance(i["data"], dict) for i in listed)
    assert listed[0]["data"]["summary"] == "夜间巡逻不到位"


def test_an_empty_page_in_the_api_is_named_not_taken_as_one(client, token_for):
    """schemathesis (negative data, on PostgreSQL) sent page= empty: the document says
    an integer, so the API refuses it naming the parameter."""
    response = client.get("/api/v1/items?page=", headers=token_for("xifang"))
    assert response.status_code in (400, 422) and "page" in response.get_data(as_text=True)
