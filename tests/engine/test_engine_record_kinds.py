"""Record kinds go through a registry: each record module says who may read its records,
and an attachment on a kind nobody registered is readable by no one but its uploader."""

from __future__ import annotations

import pytest

from engine.records import attachments


def test_the_record_modules_register_their_kinds() -> None:
    from engine.decisions import ballots, meetings, opinions
    from engine.records import checklists, kpi_reports
    from engine.residents import disclosures, listings

    assert attachments.RECORD_KINDS == {
        "checklist-row": checklists.may_read_row,
        "kpi-report": kpi_reports.may_read,
        "ballot": ballots.may_read_evidence,
        "meeting": meetings.may_read_meeting,
        "opinion": opinions.may_read_opinion,
        "statement": disclosures.may_read_statement,
        "listing": listings.may_read_listing,
    }


def test_a_reference_names_a_registered_kind_only() -> None:
    assert attachments.record_ref("kpi-report", 3) == "kpi-report:3"
    with pytest.raises(KeyError):
        attachments.record_ref("checklist_row", 3)


def test_reading_asks_the_kind_that_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []
    monkeypatch.setitem(
        attachments.RECORD_KINDS, "note", lambda actor, rid: asked.append(rid) or rid == 7
    )
    assert attachments._may_read_record(None, "note:7")
    assert not attachments._may_read_record(None, "note:8")
    assert not attachments._may_read_record(None, "note:x")
    assert not attachments._may_read_record(None, "unknown:7")
    assert asked == [7, 8]
