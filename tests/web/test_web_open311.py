"""Open311 GeoReport v2 (/open311/v2) and a property company's platform (智慧物业平台):
the spec's own examples round-trip, and a property token never reaches another company's
compounds — through the pages, the API or Open311."""

from __future__ import annotations

import pytest

from engine.store.models import Grant, Item, OrgNode, User

# The GeoReport v2 examples (wiki.open311.org/GeoReport_v2): the fields of each answer.
SERVICE_LIST_EXAMPLE = {
    "service_code": "001",
    "service_name": "Cans left out 24x7",
    "description": "Garbage or recycling cans that have been left out for more than 24 hours after collection. "
    "Violators will be cited.",
    "metadata": True,
    "type": "realtime",
    "keywords": "lorem, ipsum, dolor",
    "group": "sanitation",
}
CREATE_EXAMPLE_RESPONSE = {
    "service_request_id": 293944,
    "service_notice": "The City will inspect ...",
    "account_id": None,
}
REQUEST_EXAMPLE = {
    "service_request_id": 638344,
    "status": "closed",
    "status_notes": "Duplicate request.",
    "service_name": "Sidewalk and Curb Issues",
    "service_code": "006",
    "description": None,
    "agency_responsible": None,
    "service_notice": None,
    "requested_datetime": "2010-04-19T06:37:38-08:00",
    "updated_datetime": "2010-04-19T06:37:38-08:00",
    "expected_datetime": "2010-04-19T06:37:38-08:00",
    "address": "8TH AVE and JUDAH ST",
    "address_id": 545483,
    "zipcode": 94122,
    "lat": 37.762221815,
    "long": -122.4651145,
    "media_url": "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg",
}
# The example's POST, as a client sends it (its attributes are the example city's; ours below).
CREATE_EXAMPLE = {
    "service_code": "001",
    "lat": "37.76524078",
    "long": "-122.4212043",
    "address_string": "1234 5th street",
    "email": "smit222@sfgov.edu",
    "device_id": "tt222111",
    "account_id": "123456",
    "first_name": "john",
    "last_name": "smith",
    "phone": "111111111",
    "description": "A large sinkhole is destroying the street",
    "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
}
COMPANY = (
    "changqinggongyu",
    "chaowanggongyu",
    "chaohuijiayuan",
    "chaohuiwuquxiaoqu",
    "jingduyuanxiaoqu",
)


def _key(token_for, username):
    return token_for(username)["Authorization"].removeprefix("Bearer ")


def test_service_list_and_definition_as_the_example(client):
    listed = client.get("/open311/v2/services.json")
    assert listed.status_code == 200  # services are public: a client lists them before a key
    services = listed.get_json()
    assert {s["service_code"] for s in services} == {"repair", "bell"}  # public flag in the pack
    for s in services:
        assert set(s) == set(SERVICE_LIST_EXAMPLE)
        assert s["type"] == "realtime" and s["metadata"] is True and isinstance(s["keywords"], str)
    repair = next(s for s in services if s["service_code"] == "repair")
    assert repair["service_name"] == "报事报修" and repair["group"] == "物业服务"
    definition = client.get("/open311/v2/services/repair.json").get_json()
    assert definition["service_code"] == "repair"
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert "description" not in attributes  # the request's own description fills it
    category = attributes["category"]
    assert category["datatype"] == "singlevaluelist" and category["required"] is True
    assert {"key": "水电", "name": "水电"} in category["values"]
    assert attributes["urgent"]["values"][0] == {"key": "true", "name": "是"}
    assert all(
        set(a) >= {"variable", "code", "datatype", "required", "order", "description"}
        for a in definition["attributes"]
    )
    missing = client.get("/open311/v2/services/emergency.json")  # not public
    assert missing.status_code == 404 and missing.get_json()[0]["code"] == 404


def test_create_and_follow_a_request_round_trip(client, token_for):
    key = _key(token_for, "lvzhouhuayuan-wy")
    sent = {
        **CREATE_EXAMPLE,
        "api_key": key,
        "jurisdiction_id": "gongshu",
        "service_code": "repair",
        "address_id": "lvzhouhuayuan",
        "description": "3幢电梯停在两层之间",
        "attribute[category]": "电梯",
        "attribute[location]": "3幢电梯",
        "attribute[urgent]": "true",
    }
    created = client.post("/open311/v2/requests.json", data=sent)
    assert created.status_code == 201, created.get_data(as_text=True)
    answer = created.get_json()
    assert isinstance(answer, list) and set(answer[0]) == set(CREATE_EXAMPLE_RESPONSE)
    request_id = answer[0]["service_request_id"]
    item = Item.get_by_id(int(request_id))
    assert item.node.key == "lvzhouhuayuan" and item.definition.key == "repair"
    assert item.data["description"] == "3幢电梯停在两层之间" and item.data["urgent"] is True
    assert item.raised_by.username == "lvzhouhuayuan-wy"

    got = client.get(f"/open311/v2/requests/{request_id}.json", query_string={"api_key": key})
    assert got.status_code == 200
    [shown] = got.get_json()
    assert set(shown) == set(REQUEST_EXAMPLE)
    assert shown["service_request_id"] == request_id and shown["status"] == "open"
    assert shown["service_code"] == "repair" and shown["description"] == "3幢电梯停在两层之间"
    assert shown["status_notes"] == "已收到" and shown["address_id"] == "lvzhouhuayuan"
    assert shown["agency_responsible"] == "物业服务企业"
    assert shown["requested_datetime"].endswith("+08:00") and shown["expected_datetime"]

    # The platform moves it on through the API, with the same token; Open311 follows.
    headers = {"Authorization": f"Bearer {key}"}
    summons = client.get("/api/v1/assignments", headers=headers).get_json()["assignments"]
    [mine] = [a for a in summons if a["item"] == int(request_id)]
    assert (
        client.post(f"/api/v1/assignments/{mine['id']}/report_in", headers=headers).status_code
        == 200
    )
    done = client.post(
        f"/api/v1/assignments/{mine['id']}/complete",
        json={"reply": "已派电梯维保到场"},
        headers=headers,
    )
    assert done.status_code == 200
    for step in ("accept", "start", "finish"):
        data = {"data": {"result": "已更换电梯控制板"}} if step == "finish" else {}
        moved = client.post(
            f"/api/v1/items/{request_id}/transitions/{step}", json=data, headers=headers
        )
        assert moved.status_code == 200, (step, moved.get_json())
    [shown] = client.get(
        f"/open311/v2/requests/{request_id}.json", query_string={"api_key": key}
    ).get_json()
    assert shown["status"] == "open" and shown["status_notes"] == "待您评价"
    listed = client.get(
        "/open311/v2/requests.json",
        query_string={"api_key": key, "service_request_id": f"{request_id},999999"},
    )
    assert [r["service_request_id"] for r in listed.get_json()] == [request_id]
    assert (
        client.get(
            "/open311/v2/requests.json",
            query_string={"api_key": key, "status": "closed", "service_request_id": request_id},
        ).get_json()
        == []
    )


def test_errors_are_the_specs_list(client, token_for):
    key = _key(token_for, "lvzhouhuayuan-wy")
    no_key = client.post("/open311/v2/requests.json", data={"service_code": "repair"})
    assert no_key.status_code == 401 and no_key.get_json()[0]["code"] == 401
    assert client.get("/open311/v2/requests.json").status_code == 401
    missing = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "repair",
            "address_id": "lvzhouhuayuan",
            "description": "灯坏了",
        },
    )
    assert missing.status_code == 422
    problems = missing.get_json()
    assert all(p["code"] == 422 for p in problems) and any(
        "category" in p["description"] for p in problems
    )
    assert (
        Item.select().where(Item.raised_by == User.get(User.username == "lvzhouhuayuan-wy")).count()
        == 0
    )
    unknown = client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "repair", "attribute[WHISETN]": "123"},
    )
    assert unknown.status_code == 422 and "WHISETN" in unknown.get_json()[0]["description"]
    bad = client.get(
        "/open311/v2/requests.json", query_string={"api_key": key, "start_date": "yesterday"}
    )
    assert bad.status_code == 422 and bad.get_json()[0]["description"].startswith("start_date")
    assert (
        client.post(
            "/open311/v2/requests.json", data={"api_key": key, "service_code": "nope"}
        ).status_code
        == 404
    )


@pytest.fixture
def elsewhere(client, auth):
    """A repair at a compound the Chaohui company does not serve (raised by its resident)."""
    auth.login("changzheng-yezhu1")
    response = client.post(
        "/r/new/repair",
        data={"category": "水电", "location": "2幢", "description": "厨房水管一直在漏水"},
    )
    assert response.status_code == 303
    auth.logout()
    return Item.select().order_by(Item.id.desc()).get()


def test_a_property_token_stays_within_its_companys_compounds(client, auth, token_for, elsewhere):
    company = User.get(User.username == "chaohui-wuye")
    assert {g.node.key for g in Grant.select().where(Grant.user == company)} == set(COMPANY)
    key = _key(token_for, "chaohui-wuye")
    headers = {"Authorization": f"Bearer {key}"}
    # Raising: at each of its compounds yes, anywhere else no (API and Open311).
    for node in COMPANY[:2]:
        made = client.post(
            "/api/v1/items",
            json={
                "type": "repair",
                "node": node,
                "data": {"category": "电梯", "location": "1幢", "description": "电梯运行时异响"},
            },
            headers=headers,
        )
        assert made.status_code == 201, made.get_json()
    refused = client.post(
        "/api/v1/items",
        json={
            "type": "repair",
            "node": "changzhengqiaolu",
            "data": {"category": "电梯", "location": "1幢", "description": "电梯按钮失灵了"},
        },
        headers=headers,
    )
    assert refused.status_code == 403
    refused = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "repair",
            "address_id": "changzhengqiaolu",
            "description": "电梯按钮失灵了",
            "attribute[category]": "电梯",
            "attribute[location]": "1幢",
        },
    )
    assert refused.status_code == 403 and refused.get_json()[0]["code"] == 403
    several = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "repair",
            "description": "电梯按钮失灵了",
            "attribute[category]": "电梯",
            "attribute[location]": "1幢",
        },
    )
    assert several.status_code == 422 and "address_id" in several.get_json()[0]["description"]
    # Reading: its compounds' items only, however asked.
    listed = client.get("/api/v1/items", headers=headers).get_json()["items"]
    assert listed and {i["node"] for i in listed} <= set(COMPANY)
    assert client.get(f"/api/v1/items/{elsewhere.id}", headers=headers).status_code in (403, 404)
    assert client.post(
        f"/api/v1/items/{elsewhere.id}/transitions/accept", json={}, headers=headers
    ).status_code in (403, 404)
    requests = client.get("/open311/v2/requests.json", query_string={"api_key": key}).get_json()
    assert requests and {r["address_id"] for r in requests} <= set(COMPANY)
    assert (
        client.get(
            f"/open311/v2/requests/{elsewhere.id}.json", query_string={"api_key": key}
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/open311/v2/requests.json",
            query_string={"api_key": key, "service_request_id": str(elsewhere.id)},
        ).get_json()
        == []
    )
    # And through the pages, logged in as the company's account.
    auth.login("chaohui-wuye")
    assert client.get(f"/work/items/{elsewhere.id}").status_code in (403, 404)
    inbox = client.get("/work/").get_data(as_text=True)
    assert "厨房水管一直在漏水" not in inbox
    for node in OrgNode.select().where(OrgNode.kind == "compound"):
        if node.key not in COMPANY:
            assert client.get(f"/lists/c/{node.key}/profile").status_code in (403, 404), node.key
    assert client.get(f"/lists/c/{COMPANY[0]}/profile").status_code == 200


def test_a_pack_may_not_offer_two_services_with_one_code():
    from engine.authoring.packs import read_pack, validate_pack
    from engine.definitions.checks_residents import open311_code_problems
    from tests.conftest import SEED

    files = read_pack(SEED)
    assert open311_code_problems(files.definitions) == []
    bell = next(n for n, b in files.definitions.items() if b.get("key") == "bell")
    files.definitions[bell]["open311"]["code"] = "repair"
    problems = validate_pack(files, existing_units=set())
    assert (
        f"items/repair.json/open311/code: The service code 'repair' is also used by {bell}"
        in problems
    )
