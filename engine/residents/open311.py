"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): item types marked
``open311.public`` in the pack are services, so off-the-shelf civic-reporting clients
(and a property company's platform, 智慧物业平台) can file and follow requests.

A request is an item: filed through ``items.raise_item`` by the key's user, at the
compound the request's ``address_id`` names (or the only one where that user may raise
the type), read through the same scope as every other item. No HTTP here: the page
layer maps parameters in and these dictionaries out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import forms
from engine.core import clock
from engine.core.errors import FieldProblem, Invalid, NotFound
from engine.core.i18n import gettext as _
from engine.definitions.definitions import current_versions, runtime
from engine.org.actors import Actor
from engine.org.scope import role_labels, visible_items
from engine.residents.progress import next_steps, state_word, unit_word
from engine.store.models import Assignment, Definition, Item, OrgNode
from engine.trail import privacy
from engine.workflow import items

# GeoReport v2 datatypes of the form's field kinds; kinds not listed are not attributes.
DATATYPES = {
    "text": "string",
    "email": "string",
    "uri": "string",
    "phone": "string",
    "time": "string",
    "textarea": "text",
    "integer": "number",
    "number": "number",
    "date": "datetime",
    "datetime": "datetime",
    "select": "singlevaluelist",
    "radio": "singlevaluelist",
    "checkbox": "singlevaluelist",
    "checkboxes": "multivaluelist",
    "multiselect": "multivaluelist",
}
MAX_REQUESTS = 1000  # the spec's default cap on a requests.json answer


@dataclass(frozen=True)
class Service:
    """An item type as an Open311 service."""

    code: str
    type_key: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]
    description_field: str | None
    schema: Mapping[str, Any]
    raise_roles: tuple[str, ...] = ()

    def attributes(self) -> list[dict[str, Any]]:
        """The form's fields other than the description, as GeoReport attributes."""
        required = set(self.schema.get("required", []))
        out = []
        for spec in forms.field_specs(self.schema):
            datatype = DATATYPES.get(spec.kind)
            if datatype is None or spec.name == self.description_field:
                continue
            attribute: dict[str, Any] = {
                "variable": True,
                "code": spec.name,
                "datatype": datatype,
                "required": spec.name in required,
                "datatype_description": spec.help or None,
                "order": len(out) + 1,
                "description": spec.label,
            }
            if spec.kind == "checkbox":
                attribute["values"] = [
                    {"key": "true", "name": _("Yes")},
                    {"key": "false", "name": _("No")},
                ]
            elif datatype.endswith("valuelist"):
                attribute["values"] = [
                    {"key": str(k), "name": str(v)} for k, v in spec.options or []
                ]
            out.append(attribute)
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            "metadata": bool(self.attributes()),
            "type": "realtime",
            "keywords": ",".join(self.keywords),
            "group": self.group,
        }


def services() -> list[Service]:
    """The public services: item types whose ``open311`` says ``public``."""
    found = []
    for version in current_versions("item_type"):
        body = version.body
        spec = body.get("open311") or {}
        if spec.get("public") is True:
            found.append(
                Service(
                    code=str(spec.get("code") or body["key"]),
                    type_key=body["key"],
                    name=str(body["name"]),
                    description=str(
                        spec.get("description") or body.get("description") or body["name"]
                    ),
                    group=str(spec.get("group", "")),
                    keywords=tuple(spec.get("keywords", [])),
                    description_field=spec.get("description_field"),
                    schema=body["schema"],
                    raise_roles=tuple(body.get("raise_roles", [])),
                )
            )
    return found


def service(code: str) -> Service:
    """:raises NotFound: no public service has this code."""
    found = next((s for s in services() if s.code == code), None)
    if found is None:
        raise NotFound(_("No service has the code %(code)s.") % {"code": code})
    return found


def _value(attribute: Mapping[str, Any], raw: list[str]) -> Any:
    kind = attribute["datatype"]
    if kind == "multivaluelist":
        return raw
    value = raw[-1]
    if any(v["key"] == "true" for v in attribute.get("values", [])):
        return value.lower() in ("true", "1", "yes")
    if kind == "number":
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value  # the form's own check names the field
    return value


def answers(
    svc: Service, description: str | None, attributes: Mapping[str, list[str]]
) -> dict[str, Any]:
    """A request's description and ``attribute[code]`` values as the type's form answers.

    :raises Invalid: an attribute the service does not have.
    """
    known = {a["code"]: a for a in svc.attributes()}
    unknown = sorted(set(attributes) - set(known))
    if unknown:
        raise Invalid(
            _("Unknown attributes: %(names)s") % {"names": ", ".join(unknown)},
            [
                FieldProblem(f"attribute[{name}]", _("not an attribute of this service"))
                for name in unknown
            ],
        )
    data = {code: _value(known[code], raw) for code, raw in attributes.items() if raw}
    if description and svc.description_field:
        data[svc.description_field] = description
    return data


def _compound_for(actor: Actor, svc: Service, address_id: str | None) -> str:
    """The node a request is filed at: ``address_id``, else the only compound where the
    key's user may raise the service's type.

    :raises Invalid: none given and none or several possible.
    """
    if address_id:
        return address_id
    roles = set(svc.raise_roles)
    keys = sorted({g.node_key for g in actor.grants if g.role in roles})
    if len(keys) != 1:
        raise Invalid(
            _("Say which compound with address_id."),
            [FieldProblem("address_id", _("required: the compound's key"))],
        )
    return keys[0]


def file_request(
    actor: Actor,
    code: str,
    *,
    description: str | None,
    address_id: str | None,
    attributes: Mapping[str, list[str]],
    now: dt.datetime,
) -> Item:
    """File a request: an item of the service's type, raised by ``actor``.

    :raises NotFound: no such service, or no such compound.
    :raises Forbidden: the actor may not raise the type there.
    :raises Invalid: the answers do not pass the type's form (paths ``data/<field>``).
    """
    svc = service(code)
    node_key = _compound_for(actor, svc, address_id)
    return items.raise_item(
        actor, svc.type_key, node_key, answers(svc, description, attributes), now=now
    )


def find_requests(
    actor: Actor,
    *,
    ids: list[int] | None = None,
    code: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: str | None = None,
) -> list[Item]:
    """The requests ``actor`` may see (public services only), newest first."""
    by_type = {s.type_key for s in (services() if code is None else [service(code)])}
    query = (
        visible_items(actor)
        .join(Definition, on=(Item.definition == Definition.id))
        .where(Definition.key.in_(sorted(by_type)))
    )
    if ids is not None:
        query = query.where(Item.id.in_(ids))
    elif start is None and end is None:
        start = clock.now() - dt.timedelta(days=90)  # the spec's default window
    if start is not None:
        query = query.where(Item.raised_at >= start)
    if end is not None:
        query = query.where(Item.raised_at <= end)
    if status in ("open", "closed"):
        query = query.where(Item.closed == (status == "closed"))
    return list(query.order_by(Item.raised_at.desc(), Item.id.desc()).limit(MAX_REQUESTS))


def request_json(actor: Actor, item: Item, file_url: Any = None) -> dict[str, Any]:
    """One request as GeoReport v2 describes it, as ``actor`` may see it.

    :param file_url: turns an attachment id into an address (None: no media_url).
    """
    rt = runtime(item.version_id)
    svc = next((s for s in services() if s.type_key == rt.key), None)
    assignments = list(
        Assignment.select(Assignment, OrgNode).join(OrgNode).where(Assignment.item == item)
    )
    view = privacy.sight(actor, item, rt, unit_paths=[a.unit_path for a in assignments])
    data = privacy.shown_data(item, rt, view)
    labels = role_labels()
    agency = [s.who for s in next_steps(item, rt, assignments, labels)] or [
        unit_word(a.unit.name, a.role, labels) for a in assignments
    ]
    photo = next(
        (
            v[0]
            for s in forms.field_specs(rt.body["schema"])
            if s.kind == "photo"
            for v in [data.get(s.name)]
            if v
        ),
        None,
    )
    description = data.get(svc.description_field) if svc and svc.description_field else None
    return {
        "service_request_id": str(item.id),
        "status": "closed" if item.closed else "open",
        "status_notes": state_word(rt, item.state),
        "service_name": svc.name if svc else rt.body["name"],
        "service_code": svc.code if svc else rt.key,
        "description": str(description or item.title),
        "agency_responsible": "、".join(dict.fromkeys(agency)) or None,
        "service_notice": None,
        "requested_datetime": clock.iso(item.raised_at),
        "updated_datetime": clock.iso(item.state_since),
        "expected_datetime": clock.iso(item.due_at) if not item.closed else None,
        "address": item.node.name,
        "address_id": item.node.key,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": file_url(photo) if photo and file_url else None,
    }
