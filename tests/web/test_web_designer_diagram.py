"""The workflow diagram (server-side SVG) and its warnings, from the draft."""

from __future__ import annotations

import pytest

from engine.authoring import designer
from engine.core import clock
from engine.definitions.checks import graph_findings
from engine.store.models import User
from pages.designer.diagram import workflow_svg

WORKFLOW = {
    "initial": "open",
    "states": {
        "open": {"label": "受理", "hours": 24},
        "doing": {"label": "处置"},
        "stuck": {"label": "卡住"},
        "orphan": {"label": "孤立"},
        "closed": {"label": "办结", "final": True},
    },
    "transitions": [
        {
            "key": "start",
            "label": "开始",
            "from": ["open"],
            "to": "doing",
            "roles": ["commissioner"],
        },
        {"key": "park", "label": "搁置", "from": ["doing"], "to": "stuck", "roles": []},
        {"key": "close", "label": "办结", "from": ["doing"], "to": "closed", "roles": ["ghost"]},
        {"key": "back", "label": "退回", "from": ["doing"], "to": "open", "roles": ["raiser"]},
    ],
}


def test_graph_findings_name_unreachable_dead_ends_and_untakeable_transitions():
    found = {(f.kind, f.subject, f.path) for f in graph_findings(WORKFLOW, {"commissioner"})}
    assert found == {
        ("unreachable", "orphan", "/workflow/states/orphan"),
        ("dead_end", "stuck", "/workflow/states/stuck"),
        ("dead_end", "orphan", "/workflow/states/orphan"),
        ("nobody", "park", "/workflow/transitions/1/roles"),
        ("nobody", "close", "/workflow/transitions/2/roles"),
    }


def test_graph_findings_tolerate_a_half_written_draft():
    assert graph_findings(
        {"states": {"a": {}}, "transitions": [{"from": ["x"], "to": None}, "junk"]}, set()
    )
    assert graph_findings({}, set()) == []


def test_the_svg_marks_initial_final_and_warned_states_and_labels_arrows():
    svg = str(workflow_svg(WORKFLOW, ["orphan"], title="<t>"))
    assert svg.startswith("<svg") and "&lt;t&gt;" in svg and "<script" not in svg
    assert svg.count('class="wf-state') == 5 and 'class="wf-initial"' in svg
    assert 'class="wf-state wf-final" id="wf-closed"' in svg
    assert 'class="wf-state wf-warned" id="wf-orphan"' in svg
    for label in ("开始", "搁置", "办结", "退回"):
        assert f">{label}</text>" in svg
    assert svg.count('class="wf-edge"') == 4


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def test_the_workflow_editor_shows_the_drafts_diagram_and_warnings(admin, app):
    html = admin.get("/admin/designer/whistle/workflow").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram"' in html
    assert 'id="workflow-warnings"' in html and "warning-" not in html
    with app.app_context():
        body = designer.draft_of(designer.definition_of("whistle"))
        body["workflow"]["states"]["limbo"] = {"label": "悬空"}
        designer.save_draft(User.get(User.username == "admin"), "whistle", body, now=clock.now())
    html = admin.get("/admin/designer/whistle/workflow").get_data(as_text=True)
    assert 'class="warning-unreachable"' in html and 'class="warning-dead_end"' in html
    assert "悬空 (limbo)" in html and 'wf-warned" id="wf-limbo"' in html
