"""The staff's item page tells an urged summons and the time to resolution in words: the
summons urge's branch came after the one for every summons action, so the page showed the
event's key; the resolution time read "24.0 h"."""

from __future__ import annotations

import re

from engine.store.models import Item
from engine.supervision import actions as supervision
from tests.review_data import NOW, make_item, summons


def test_an_urged_summons_reads_in_words(app, client, auth, actor_of):
    item = make_item("lvzhouhuayuan")
    urged = summons(item, "dept-zhifa", NOW)
    supervision.urge_summons(actor_of("ducha"), urged.id, "请尽快到场处置", now=NOW)
    auth.login("xifang")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "summons.urge" not in page
    assert "督办" in page and "请尽快到场处置" in page and urged.unit.name in page


def test_the_time_to_resolution_reads_in_words(app, client, auth):
    item = make_item("lvzhouhuayuan")
    Item.update(resolution_seconds=26 * 3600).where(Item.id == item.id).execute()
    auth.login("xifang")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    assert "从发起到解决用时：1天2小时" in page, page[-3000:]
    assert " h</p>" not in page


def test_a_transition_form_leads_back_to_the_item(app, client, auth):
    item = make_item("lvzhouhuayuan")
    auth.login("xifang")
    page = client.get(f"/work/items/{item.id}").get_data(as_text=True)
    offer = next(iter(re.findall(rf'href="(/work/items/{item.id}/t/[\w-]+)"', page)))
    form = client.get(offer).get_data(as_text=True)
    assert f'<a class="button" href="/work/items/{item.id}">' in form
    assert "取消" in form or "不，返回" in form
