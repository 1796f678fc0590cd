"""Directories (名录): pack checks, add/edit/retire audited, personal answers masked, the
facts at their edges, and the 22-row list's rows 7, 18, 19 and 22 and the index measured."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from engine.core.errors import Conflict, Forbidden, Invalid
from engine.definitions.checks import definition_problems
from engine.definitions.definitions import current_version
from engine.metrics import facts, indices
from engine.org.actors import actor_for
from engine.records import kpi
from engine.residents import directories as ds
from engine.store.models import Event, OrgNode, User
from engine.store.resident_tables import DirectoryEntry

NOW = dt.datetime(2026, 11, 27, 2, 0, 0)
SEED = Path(__file__).resolve().parents[2] / "seed" / "gongshu"
ROLES = {"admin", "supervisor", "commissioner", "party", "partner", "committee", "property"}


def _seed(name: str) -> dict:
    return json.loads((SEED / "directories" / f"{name}.json").read_text("utf-8"))


def _problems(body: dict) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in definition_problems(body, roles=ROLES, units=set())]


def test_the_seed_directories_pass_their_checks():
    for name in ("social-orgs", "volunteer-projects", "in-service-members", "property-party-orgs"):
        assert _problems(_seed(name)) == []


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (
            lambda b: b.update(node_kinds=["estate"]),
            "/node_kinds/0",
            "'estate' is no kind of place",
        ),
        (lambda b: b.update(node_kinds=["building"]), "/node_kinds/0", "a directory is kept at"),
        (lambda b: b.update(min_per_node=0), "/min_per_node", "whole number of at least 1, not 0"),
        (lambda b: b.update(min_per_node=-3), "/min_per_node", "not -3"),
        (lambda b: b.update(min_per_node=2.5), "/min_per_node", "not 2.5"),
        (lambda b: b.update(min_per_node="18"), "/min_per_node", 'not "18"'),
        (lambda b: b.update(min_per_node=True), "/min_per_node", "not true"),
        (
            lambda b: b.update(edit_roles=["mayor"]),
            "/edit_roles/0",
            "There is no role with the key 'mayor' in the pack",
        ),
        (
            lambda b: b.update(read_roles=["x"]),
            "/read_roles/0",
            "There is no role with the key 'x' in the pack",
        ),
        (
            lambda b: b.update(title_field="nope"),
            "/title_field",
            "The form has no field with the key 'nope'",
        ),
        (lambda b: b.update(title_field="phone"), "/title_field", "personal answer"),
        (
            lambda b: b["schema"]["properties"]["name"].update(type="strng"),
            "/schema/properties/name",
            "",
        ),
    ],
)
def test_pack_checks_name_the_mistake(change, path, words):
    body = copy.deepcopy(_seed("social-orgs"))
    change(body)
    found = _problems(body)
    assert any(p.startswith(path) and words in m for p, m in found), found


def test_a_bad_schema_is_refused_at_its_path():
    body = copy.deepcopy(_seed("in-service-members"))
    body["schema"] = {
        "type": "object",
        "properties": {"unit": {"type": "string", "format": "nope"}},
    }
    found = _problems(body)
    assert found and all(p.startswith("/schema") or p == "/title_field" for p, _m in found), found
    assert any(p.startswith("/schema/properties/unit") for p, _m in found), found


def _node(key: str) -> OrgNode:
    return OrgNode.get(OrgNode.key == key)


def _actor(username: str):
    return actor_for(User.get(User.username == username))


ORG = {"name": "施家花园社区银龄互助会", "type": "community", "field": "elderly"}


def _orgs(n: int, node: OrgNode) -> list[DirectoryEntry]:
    admin = _actor("admin")
    return [
        ds.add(admin, "social-orgs", node, {**ORG, "name": f"{ORG['name']}{i}"}, now=NOW)
        for i in range(n)
    ]


def test_add_edit_retire_are_audited_and_readers_may_not(app):
    community = _node("shijiahuayuan")
    admin = _actor("admin")
    entry = ds.add(
        admin,
        "social-orgs",
        community,
        {**ORG, "contact": "何建华", "phone": "13812345678"},
        now=NOW,
    )
    assert entry.title == ORG["name"] and entry.data["phone"] == "13812345678"
    with pytest.raises(Invalid) as refused:
        ds.add(admin, "social-orgs", community, {"name": "缺类型"}, now=NOW)
    assert {p.path for p in refused.value.fields} >= {"data/type", "data/field"}
    reader = _actor("xifang")  # a commissioner of a compound in the community: reads only
    assert ds.may_read(reader, current_version("social-orgs").body, community)
    with pytest.raises(Forbidden):
        ds.add(reader, "social-orgs", community, ORG, now=NOW)
    with pytest.raises(Forbidden):
        ds.retire(reader, entry, community, "不再合作", now=NOW)
    ds.edit(admin, entry, community, {**entry.data, "field": "mediation"}, now=NOW)
    with pytest.raises(Invalid):
        ds.retire(admin, entry, community, "  ", now=NOW)
    ds.retire(admin, entry, community, "组织已注销", now=NOW)
    with pytest.raises(Conflict):
        ds.edit(admin, entry, community, ORG, now=NOW)
    stored = DirectoryEntry.get_by_id(entry.id)
    assert stored.retired_at == NOW and stored.retire_reason == "组织已注销"
    assert stored.data["field"] == "mediation"
    actions = [
        e.action
        for e in Event.select()
        .where(Event.target == f"directory_entry:{entry.id}")
        .order_by(Event.id)
    ]
    assert actions == ["directory.add", "directory.edit", "directory.retire"]


def test_personal_answers_are_masked_for_who_only_reads(app):
    community = _node("shijiahuayuan")
    entry = _orgs(1, community)[0]
    body = current_version("social-orgs").body
    ds.edit(
        _actor("admin"),
        entry,
        community,
        {**ORG, "contact": "何建华", "phone": "13812345678"},
        now=NOW,
    )
    reader, keeper = _actor("xifang"), _actor("admin")
    assert not ds.sees_personal(reader, body, community)
    assert ds.sees_personal(keeper, body, community)
    masked = ds.shown_data(body, entry.data, False)
    assert masked["phone"] == "138****5678" and masked["contact"] == "何*华"
    assert masked["name"] == ORG["name"]  # not personal: whole
    assert ds.shown_data(body, entry.data, True)["phone"] == "13812345678"


def _doc(key: str) -> dict:
    return facts.compute_all(now=NOW)[_node(key).id]


def test_exactly_the_target_counts_and_retired_entries_do_not(app):
    community = _node("shijiahuayuan")
    made = _orgs(18, community)
    got = _doc("shijiahuayuan")["directories"]["social-orgs"]
    assert (got["entries"], got["nodes"], got["nodes_at_min"], got["at_min_rate"]) == (
        18,
        1,
        1,
        100.0,
    )
    assert got["by"]["type"]["community"] == 18 and got["share"]["field"]["elderly"] == 100.0
    district = _doc("gongshu")["directories"]["social-orgs"]
    communities = OrgNode.select().where(OrgNode.kind == "community").count()
    assert district["nodes"] == communities and district["nodes_at_min"] == 1
    assert district["at_min_rate"] == round(100 / communities, 2)
    ds.retire(_actor("admin"), made[0], community, "长期未开展活动", now=NOW)
    got = _doc("shijiahuayuan")["directories"]["social-orgs"]
    assert (got["entries"], got["nodes_at_min"], got["at_min_rate"]) == (17, 0, 0.0)
    # a directory without a target has no target facts; an empty one sums to zero
    projects = _doc("gongshu")["directories"]["property-party-orgs"]
    assert projects["nodes_at_min"] is None and projects["at_min_rate"] is None
    assert projects["sum"] == {"members": 0} and projects["entries"] == 0


def test_property_party_organisations_sum_their_members(app):
    district = _node("gongshu")
    admin = _actor("admin")
    for i, members in enumerate((22, 17, 9)):
        ds.add(
            admin,
            "property-party-orgs",
            district,
            {"company": f"杭州运河物业{i}", "org_name": f"运河物业{i}党支部", "members": members},
            now=NOW,
        )
    got = _doc("gongshu")["directories"]["property-party-orgs"]
    assert got["entries"] == 3 and got["sum"]["members"] == 48
    street = _doc("chaohui")["directories"]["property-party-orgs"]
    assert street["entries"] == 0 and street["nodes"] == 0


def _row(no: int) -> dict:
    body = current_version("tasks-2021").body
    return next(r for r in body["rows"] if r["no"] == no)


def test_rows_7_18_19_22_and_the_index_read_the_directories(app):
    compound = _node("lvzhouhuayuan")
    keeper = _actor("xifang")
    for i in range(20):
        ds.add(
            keeper,
            "in-service-members",
            compound,
            {"name": f"张{i}", "unit": "拱墅区税务局", "status": "reported" if i else "pending"},
            now=NOW,
        )
    for kind, n in (("mhww", 3), ("volunteer", 2), ("micro", 2)):
        for i in range(n):
            ds.add(
                keeper,
                "volunteer-projects",
                compound,
                {"name": f"项目{kind}{i}", "type": kind, "status": "done", "participants": 10},
                now=NOW,
            )
    _orgs(18, _node("shijiahuayuan"))
    docs = facts.compute_all(now=NOW)
    district = docs[_node("gongshu").id]
    seven = kpi.measure_row(_row(7), district, now=NOW)
    assert (seven.value, seven.status) == (95.0, "met")  # 19 of 20 reported
    assert kpi.measure_row(_row(18), district, now=NOW).value == 5.0
    assert kpi.measure_row(_row(19), district, now=NOW).value == 2.0
    twenty_two = kpi.measure_row(_row(22), district, now=NOW)
    communities = OrgNode.select().where(OrgNode.kind == "community").count()
    assert twenty_two.value == round(100 / communities, 2) and twenty_two.status != "met"
    street = docs[_node("chaohui").id]
    assert kpi.measure_row(_row(7), street, now=NOW).value == 95.0
    score = indices.score_compound(current_version("strong-base"), docs[compound.id])
    assert score.indicators["in-service-report"]["value"] == 95.0
    other = indices.score_compound(
        current_version("strong-base"), docs[_node("changzhengqiaolu").id]
    )
    assert other.indicators["in-service-report"]["value"] is None  # no register: no data
    assert docs[compound.id]["directories"]["volunteer-projects"]["sum"]["participants"] == 70


def test_rules_that_read_a_missing_directory_fact_are_refused(tmp_path):
    import shutil

    from engine.authoring.packs import read_pack, validate_pack

    pack = tmp_path / "pack"
    shutil.copytree(SEED, pack)
    tasks = json.loads((pack / "checklists" / "tasks-2021.json").read_text("utf-8"))
    wrong = {
        7: "directories.in-service-member.share.status.reported",
        19: "directories.volunteer-projects.by.type.mikro",
        22: "directories.social-orgs.at_min_rat",
    }
    for row in tasks["rows"]:
        if row["no"] in wrong:
            row["measure"] = {"var": wrong[row["no"]]}
    (pack / "checklists" / "tasks-2021.json").write_text(json.dumps(tasks, ensure_ascii=False))
    found = validate_pack(read_pack(pack))
    assert found == [
        (
            "checklists/tasks-2021.json/rows/6/measure: The rule reads 'directories.in-service-"
            "member.share.status.reported', but the pack has no directory 'in-service-member'"
        ),
        (
            "checklists/tasks-2021.json/rows/18/measure: "
            "'directories.volunteer-projects.by.type.mikro' is no fact of the directory"
        ),
        (
            "checklists/tasks-2021.json/rows/21/measure: "
            "'directories.social-orgs.at_min_rat' is no fact of the directory"
        ),
    ]
    assert validate_pack(read_pack(SEED)) == []


def test_the_places_a_reader_reads_and_their_active_counts(app, monkeypatch):
    """``kept_places`` gives the nodes of the directory's kinds in the reader's reach and
    above it, with the streets and communities to group them by; ``counts_at`` and
    ``active_counts`` count the active entries only, for lists of any length."""
    community = _node("shijiahuayuan")
    made = _orgs(3, community)
    ds.retire(_actor("admin"), made[0], community, "组织已注销", now=NOW)
    version = current_version("social-orgs")
    body = version.body
    reader = _actor("xifang")  # a compound's commissioner: reads its community's directory
    kept, areas = ds.kept_places(reader, body)
    expected = [
        n
        for n in OrgNode.select().order_by(OrgNode.path)
        if n.kind in body["node_kinds"] and ds.may_read(reader, body, n)
    ]
    assert [n["key"] for n in kept] == [n.key for n in expected] and kept
    assert community.id in {n["id"] for n in kept}
    street = OrgNode.get_by_id(int(community.path.strip("/").split("/")[-2]))
    assert areas[street.id]["name"] == street.name and areas[community.id]["kind"] == "community"
    everywhere, _ = ds.kept_places(_actor("admin"), body)
    assert len(everywhere) == OrgNode.select().where(OrgNode.kind == "community").count()
    other = _node("chaohuiyiqu")
    _orgs(1, other)  # an entry at a node not asked for is left out either way
    for above in (ds.COUNT_EVERY_NODE_ABOVE, 0):  # an IN list, or every node's counts
        monkeypatch.setattr(ds, "COUNT_EVERY_NODE_ABOVE", above)
        for ids in (
            [community.id],
            [n["id"] for n in everywhere][:3],
            [n["id"] for n in everywhere if n["id"] != other.id],
        ):
            expect = {community.id: 2} if community.id in ids else {}
            assert ds.counts_at(version, ids) == expect, above
    assert ds.active_counts([version.definition_id]) == {
        (version.definition_id, community.id): 2,
        (version.definition_id, other.id): 1,
    }
