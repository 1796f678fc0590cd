"""The compound-file facts as engine/definitions/profile_facts.py computed them before the pack declared
them (commit 8130a18), kept as the oracle the declared facts of the seed pack must match."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

COMMITTEE_TYPES = ("业委会", "物管委")


def _pct(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100 * part / whole, 2)


def _int(profile: Mapping[str, Any], name: str) -> int | None:
    value = profile.get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def profile_facts(profile: Mapping[str, Any], commissioner_granted: bool) -> dict[str, Any]:
    """The ``profile`` part of a compound's facts, from its file and its commissioner grant."""
    committee_type = profile.get("committee_type") or "无"
    has_committee = committee_type in COMMITTEE_TYPES
    members = _int(profile, "committee_members") if has_committee else None
    party = _int(profile, "committee_party_members") if has_committee else None
    buildings = _int(profile, "buildings")
    leader_system = bool(profile.get("building_leader_system"))
    leaders = _int(profile, "building_leaders") if leader_system else None
    in_service = _int(profile, "in_service_party_members")
    reported = _int(profile, "in_service_party_members_reported")
    rate = profile.get("fee_collection_rate")
    return {
        "has_party_org": bool(profile.get("has_party_org")),
        "party_org_name": profile.get("party_org_name") or None,
        "party_org_type": profile.get("party_org_type") or None,
        "has_commissioner": commissioner_granted or bool(profile.get("commissioner_name")),
        "commissioner_name": profile.get("commissioner_name") or None,
        "has_service_point": bool(profile.get("service_points")),
        "committee_type": committee_type,
        "has_committee": has_committee,
        "committee_members": members,
        "committee_party_members": party,
        "committee_party_ratio": _pct(party, members),
        "property_company": profile.get("property_company") or None,
        "has_property_company": bool(profile.get("property_company")),
        "professional_property": bool(profile.get("professional_property")),
        "buildings": buildings,
        "building_leader_system": leader_system,
        "building_leaders": leaders,
        "building_leader_ratio": _pct(leaders, buildings),
        "party_member_buildings": _int(profile, "party_member_buildings"),
        "party_member_building_rate": _pct(_int(profile, "party_member_buildings"), buildings),
        "households": _int(profile, "households"),
        "party_members": (_int(profile, "party_members_registered") or 0)
        + (_int(profile, "party_members_unregistered") or 0),
        "in_service_party_members": in_service,
        "in_service_party_members_reported": reported,
        "in_service_report_rate": _pct(reported, in_service),
        "fee_collection_rate": float(rate)
        if isinstance(rate, int | float) and not isinstance(rate, bool)
        else None,
        "finance_disclosure_online": bool(profile.get("finance_disclosure_online")),
        "evote_declared": bool(profile.get("evote_used")),
        "property_petitions": _int(profile, "property_petitions"),
        "property_petitions_last_year": _int(profile, "property_petitions_last_year"),
    }


def _share(rows: Sequence[Mapping[str, Any]], name: str) -> float | None:
    return _pct(sum(1 for r in rows if r[name]), len(rows))


def _ratio_of_sums(rows: Sequence[Mapping[str, Any]], part: str, whole: str) -> float | None:
    pairs = [(r[part], r[whole]) for r in rows if r[whole] is not None]
    return _pct(sum(p or 0 for p, _ in pairs), sum(w for _, w in pairs))


def coverage(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Coverage rates (percent) over the compounds of a node; a compound covers itself."""
    with_committee = [r for r in rows if r["has_committee"]]
    half_party = [r for r in with_committee if (r["committee_party_ratio"] or 0) >= 50]
    weighted = [
        (r["fee_collection_rate"], r["households"] or 0)
        for r in rows
        if r["fee_collection_rate"] is not None
    ]
    weight = sum(w for _, w in weighted)
    this_year = [r["property_petitions"] for r in rows if r["property_petitions"] is not None]
    last_year = [
        r["property_petitions_last_year"]
        for r in rows
        if r["property_petitions_last_year"] is not None
    ]
    return {
        "compounds": len(rows),
        "households": sum(r["households"] or 0 for r in rows),
        "party_org_rate": _share(rows, "has_party_org"),
        "commissioner_rate": _share(rows, "has_commissioner"),
        "service_point_rate": _share(rows, "has_service_point"),
        "committee_rate": _share(rows, "has_committee"),
        "committee_party_half_rate": _pct(len(half_party), len(with_committee)),
        "building_leader_rate": _share(rows, "building_leader_system"),
        "party_member_building_rate": _ratio_of_sums(rows, "party_member_buildings", "buildings"),
        "in_service_report_rate": _ratio_of_sums(
            rows, "in_service_party_members_reported", "in_service_party_members"
        ),
        "professional_property_rate": _share(rows, "professional_property"),
        "finance_online_rate": _share(rows, "finance_disclosure_online"),
        "evote_rate": _share(rows, "evote_declared"),  # declared in the file until polls exist
        "fee_collection_rate": round(sum(v * w for v, w in weighted) / weight, 2)
        if weight
        else None,
        "property_petitions": sum(this_year) if this_year else None,
        "property_petitions_last_year": sum(last_year) if last_year else None,
        "petition_change_rate": _pct(sum(this_year) - sum(last_year), sum(last_year))
        if this_year and last_year
        else None,
    }
