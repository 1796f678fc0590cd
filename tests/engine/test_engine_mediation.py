"""物业纠纷调解 as the seed pack defines it: raise → sessions → agreement → follow-up → resolved."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from engine.core.errors import Forbidden, Invalid
from engine.definitions.definitions import runtime
from engine.metrics import facts
from engine.org.org import node_by_key
from engine.records import attachments
from engine.store.storage import configured
from engine.trail import privacy
from engine.workflow import items
from tests.polls_support import PNG

NOW = dt.datetime(2026, 11, 27, 1, 0)
CASE = {
    "category": "停车管理",
    "summary": "5幢业主与物业就地下车位收费的争议",
    "source": "三和交流群发现",
    "parties": [
        {"name": "何琳", "identity": "业主", "phone": "13812345678"},
        {"name": "林明静", "identity": "物业服务企业"},
    ],
}
SESSION = {
    "date": "2026-11-28",
    "attendees": "党支部书记、业委会主任、物业项目经理、双方",
    "notes": "听取双方意见,物业同意核对收费依据",
}


def _step(actor, item, key, data=None, at=NOW):
    return items.transition(actor, item.id, key, data, expected=item.lock, now=at)


def test_a_case_from_request_to_success(app, actor_of):
    resident, mediator = actor_of("lvzhou-yezhu1"), actor_of("lvzhouhuayuan-dzz")
    case = items.raise_item(resident, "mediation", "lvzhouhuayuan", CASE, now=NOW)
    assert case.state == "received" and case.due_at is not None
    with pytest.raises(Forbidden):
        _step(resident, case, "accept")
    case = _step(mediator, case, "accept", {"mediator": "赵平春"})
    with pytest.raises(Invalid):  # no session recorded yet
        _step(mediator, case, "agree", {"agreement": "物业按物价备案标准收取车位费"})
    with pytest.raises(Invalid) as refused:
        _step(mediator, case, "session", {"date": "2026-11-28", "attendees": "双方"})
    assert "data/notes" in {p.path for p in refused.value.fields}
    case = _step(mediator, case, "session", SESSION)
    case = _step(mediator, case, "session", {**SESSION, "date": "2026-12-02"})
    assert case.state == "mediating" and case.data["sessions"] == 2
    with app.app_context():
        signed = attachments.store(
            mediator,
            "agreement.png",
            "image/png",
            io.BytesIO(PNG),
            store=configured(app.config),
            now=NOW,
        ).public_id
    case = _step(
        mediator,
        case,
        "agree",
        {
            "agreement": "物业按物价备案标准收取车位费,多收部分在下月物业费中抵扣",
            "signed": [signed],
        },
    )
    assert case.state == "follow_up" and case.resolved_at is None
    assert case.due_at == case.state_since + dt.timedelta(hours=720)  # 30 natural days
    case = _step(mediator, case, "visit", {"fulfilled": "已履行", "visit_notes": "回访双方,已抵扣"})
    assert case.state == "success" and case.closed and case.resolved_at is not None
    doc = facts.compute_all(now=NOW)[node_by_key("lvzhouhuayuan").id]["by_type"]["mediation"]
    assert doc["states"] == {"success": 1} and doc["resolved"] == 1


def test_outcomes_count_as_resolved_or_not(app, actor_of):
    mediator = actor_of("lvzhouhuayuan-dzz")
    prevented = items.raise_item(mediator, "mediation", "lvzhouhuayuan", CASE, now=NOW)
    _step(mediator, prevented, "prevent", {"how": "群里及时解释收费依据,业主表示理解"})
    failed = items.raise_item(mediator, "mediation", "lvzhouhuayuan", CASE, now=NOW)
    failed = _step(mediator, failed, "accept")
    failed = _step(mediator, failed, "session", SESSION)
    _step(mediator, failed, "fail", {"route": "引导诉讼", "reason": "双方对车位权属认识分歧较大"})
    street = node_by_key("lvzhouhuayuan").keys[1]
    doc = facts.compute_all(now=NOW)[node_by_key(street).id]["by_type"]["mediation"]
    assert doc["states"] == {"prevented": 1, "failed": 1}
    assert (doc["resolved"], doc["resolution_rate"]) == (1, 50.0)


def test_unfulfilled_agreement_goes_back_to_mediation(app, actor_of):
    mediator = actor_of("xifang")
    case = items.raise_item(mediator, "mediation", "lvzhouhuayuan", CASE, now=NOW)
    case = _step(mediator, _step(mediator, case, "accept"), "session", SESSION)
    with app.app_context():
        signed = attachments.store(
            mediator, "a.png", "image/png", io.BytesIO(PNG), store=configured(app.config), now=NOW
        ).public_id
    case = _step(
        mediator,
        case,
        "agree",
        {"agreement": "物业三日内清理地库积水并答复业主", "signed": [signed]},
    )
    case = _step(
        mediator, case, "visit", {"fulfilled": "未履行,继续调解", "visit_notes": "地库仍有积水"}
    )
    assert case.state == "mediating" and not case.closed


def test_parties_names_are_masked_for_the_property_company(app, actor_of):
    case = items.raise_item(actor_of("lvzhou-yezhu1"), "mediation", "lvzhouhuayuan", CASE, now=NOW)
    rt = runtime(case.version_id)
    shown = privacy.shown_data(case, rt, privacy.sight(actor_of("lvzhouhuayuan-wy"), case, rt))
    assert shown["parties"][0]["name"] == "何*" and shown["parties"][0]["phone"] == "138****5678"
    mediator = privacy.sight(actor_of("lvzhouhuayuan-dzz"), case, rt)
    assert mediator.may_reveal and not mediator.whole  # shows it whole only on request, audited
