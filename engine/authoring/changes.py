"""What changed between two bodies of a definition, in the admin's words (可读的差异).

The publish page and the history compare show "字段: 新增 “充电位置”", "条件: 由 … 改为 …",
"分派: …" rather than a JSON diff; anything the sentences do not cover is named by its
place ("其他设置有改动: 升级督办") so no change goes unmentioned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.authoring.words import Vocabulary, condition_words
from engine.core.i18n import gettext as _
from forms.builder import FieldRow, property_from_row, rows_from_schema


def N_(text: str) -> str:
    """Marks a msgid for extraction; translated where it is used."""
    return text


OTHER_NAMES = {
    "calendar": N_("which hours deadlines count"),
    "escalation": N_("escalation"),
    "node_kinds": N_("where it is raised"),
    "scope": N_("where it applies"),
    "description": N_("description"),
    "personal_roles": N_("who sees personal answers"),
    "review": N_("review"),
    "icon": N_("icon"),
}
COVERED = frozenset({"schema", "workflow", "routing", "name", "title", "raise_roles"})


@dataclass(frozen=True)
class Change:
    """One change: its area (字段, 状态, 流转, 分派…) and a sentence."""

    area: str
    text: str


def _q(text: Any) -> str:
    return f"“{text}”"


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    area = _("Field")
    a = {r.name: r for r in rows_from_schema(old.get("schema") or {}).rows}
    b = {r.name: r for r in rows_from_schema(new.get("schema") or {}).rows}
    words = Vocabulary([*a.values(), *b.values()])
    out = [
        Change(area, _("added %(what)s") % {"what": _q(r.label or n)})
        for n, r in b.items()
        if n not in a
    ]
    out += [
        Change(area, _("removed %(what)s") % {"what": _q(r.label or n)})
        for n, r in a.items()
        if n not in b
    ]
    for name in [n for n in b if n in a]:
        out += _one_field(area, a[name], b[name], words)
    if [n for n in b if n in a] != [n for n in a if n in b]:
        out.append(Change(area, _("the order changed")))
    return out


def _one_field(area: str, x: FieldRow, y: FieldRow, words: Vocabulary) -> list[Change]:
    label = _q(y.label or y.name)
    out = []
    if x.label != y.label:
        out.append(Change(area, _("%(old)s renamed %(new)s") % {"old": _q(x.label), "new": label}))
    if x.required != y.required:
        text = _("%(what)s is now required") if y.required else _("%(what)s is now optional")
        out.append(Change(area, text % {"what": label}))
    if x.kind != y.kind or x.preset != y.preset:
        out.append(Change(area, _("%(what)s: its kind or format changed") % {"what": label}))
    if x.options != y.options:
        out.append(
            Change(
                area,
                _("%(what)s: options from %(old)s to %(new)s")
                % {
                    "what": label,
                    "old": "、".join(o[1] for o in x.options) or "—",
                    "new": "、".join(o[1] for o in y.options) or "—",
                },
            )
        )
    shown_x, shown_y = property_from_row(x).get("x-show-if"), property_from_row(y).get("x-show-if")
    if shown_x != shown_y:
        out.append(
            Change(
                _("Condition"),
                _("%(what)s shown when: from %(old)s to %(new)s")
                % {
                    "what": label,
                    "old": condition_words(shown_x, words, "data") if shown_x else _("always"),
                    "new": condition_words(shown_y, words, "data") if shown_y else _("always"),
                },
            )
        )
    rest_x = {k: v for k, v in property_from_row(x).items() if k not in ("title", "x-show-if")}
    rest_y = {k: v for k, v in property_from_row(y).items() if k not in ("title", "x-show-if")}
    if (
        rest_x != rest_y
        and x.required == y.required
        and x.options == y.options
        and x.kind == y.kind
    ):
        out.append(Change(area, _("%(what)s: its settings changed") % {"what": label}))
    return out


def _state_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    area = _("State")
    a = (old.get("workflow") or {}).get("states") or {}
    b = (new.get("workflow") or {}).get("states") or {}
    added = {k: s for k, s in b.items() if k not in a}
    removed = {k: s for k, s in a.items() if k not in b}
    out = []
    for k, s in list(removed.items()):  # the same state under a new key: a rename
        twin = next((n for n, t in added.items() if t == s), None)
        if twin is not None:
            del removed[k], added[twin]
            out.append(
                Change(
                    area,
                    _("%(what)s: its key changed (its open items move when published)")
                    % {"what": _q((s or {}).get("label", k))},
                )
            )
    out += [
        Change(area, _("added %(what)s") % {"what": _q((s or {}).get("label", k))})
        for k, s in added.items()
    ]
    out += [
        Change(area, _("removed %(what)s") % {"what": _q((s or {}).get("label", k))})
        for k, s in removed.items()
    ]
    for key in [k for k in b if k in a]:
        x, y = a[key] or {}, b[key] or {}
        if x.get("label") != y.get("label"):
            out.append(
                Change(
                    area,
                    _("%(old)s renamed %(new)s")
                    % {"old": _q(x.get("label")), "new": _q(y.get("label"))},
                )
            )
        if (x.get("hours"), x.get("calendar")) != (y.get("hours"), y.get("calendar")):
            out.append(
                Change(
                    area,
                    _("%(what)s: deadline from %(old)s to %(new)s")
                    % {"what": _q(y.get("label", key)), "old": _hours(x), "new": _hours(y)},
                )
            )
        if bool(x.get("final")) != bool(y.get("final")):
            out.append(
                Change(
                    area, _("%(what)s: final or not changed") % {"what": _q(y.get("label", key))}
                )
            )
    return out


def _hours(spec: Mapping[str, Any]) -> str:
    if not spec.get("hours"):
        return _("none")
    kind = _("natural hours") if spec.get("calendar") == "natural" else _("working hours")
    return _("%(n)s hours (%(kind)s)") % {"n": spec["hours"], "kind": kind}


def _transition_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], words: Vocabulary
) -> list[Change]:
    area = _("Transition")
    a = {t.get("key"): t for t in (old.get("workflow") or {}).get("transitions") or []}
    b = {t.get("key"): t for t in (new.get("workflow") or {}).get("transitions") or []}
    out = [
        Change(area, _("added %(what)s") % {"what": _q(t.get("label", k))})
        for k, t in b.items()
        if k not in a
    ]
    out += [
        Change(area, _("removed %(what)s") % {"what": _q(t.get("label", k))})
        for k, t in a.items()
        if k not in b
    ]
    for key in [k for k in b if k in a]:
        x, y = a[key], b[key]
        label = _q(y.get("label", key))
        if x.get("guard") != y.get("guard"):
            out.append(
                Change(
                    _("Condition"),
                    _("%(what)s offered when: from %(old)s to %(new)s")
                    % {
                        "what": label,
                        "old": condition_words(x.get("guard", True), words, "data"),
                        "new": condition_words(y.get("guard", True), words, "data"),
                    },
                )
            )
        if {k: v for k, v in x.items() if k != "guard"} != {
            k: v for k, v in y.items() if k != "guard"
        }:
            out.append(Change(area, _("%(what)s changed") % {"what": label}))
    return out


def _routing_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], words: Vocabulary, units: Mapping[str, str]
) -> list[Change]:
    area = _("Routing")
    a, b = old.get("routing") or {}, new.get("routing") or {}
    out = [
        Change(area, _("added the table %(what)s") % {"what": _q(t.get("label", k))})
        for k, t in b.items()
        if k not in a
    ]
    out += [
        Change(area, _("removed the table %(what)s") % {"what": _q(t.get("label", k))})
        for k, t in a.items()
        if k not in b
    ]
    for name in [k for k in b if k in a]:
        ra = {r.get("key"): r for r in a[name].get("rules", [])}
        rb = {r.get("key"): r for r in b[name].get("rules", [])}
        for key, rule in rb.items():
            label = _q(rule.get("label") or key)
            if key not in ra:
                out.append(
                    Change(
                        area,
                        _("added the rule %(what)s: %(when)s → %(units)s")
                        % {
                            "what": label,
                            "when": condition_words(rule.get("when", True), words),
                            "units": _units(rule, units),
                        },
                    )
                )
            elif ra[key] != rule:
                if ra[key].get("when") != rule.get("when"):
                    out.append(
                        Change(
                            _("Condition"),
                            _("%(what)s: from %(old)s to %(new)s")
                            % {
                                "what": label,
                                "old": condition_words(ra[key].get("when", True), words),
                                "new": condition_words(rule.get("when", True), words),
                            },
                        )
                    )
                if ra[key].get("summon") != rule.get("summon"):
                    out.append(
                        Change(
                            area,
                            _("%(what)s summons %(units)s")
                            % {"what": label, "units": _units(rule, units)},
                        )
                    )
                rest = ("when", "summon")
                if {k: v for k, v in ra[key].items() if k not in rest} != {
                    k: v for k, v in rule.items() if k not in rest
                }:
                    out.append(
                        Change(area, _("%(what)s: its deadlines or name changed") % {"what": label})
                    )
        out += [
            Change(area, _("removed the rule %(what)s") % {"what": _q(r.get("label") or k)})
            for k, r in ra.items()
            if k not in rb
        ]
        if {k: v for k, v in a[name].items() if k != "rules"} != {
            k: v for k, v in b[name].items() if k != "rules"
        }:
            out.append(
                Change(
                    area,
                    _("the table %(what)s: its settings changed")
                    % {"what": _q(b[name].get("label", name))},
                )
            )
    return out


def _units(rule: Mapping[str, Any], units: Mapping[str, str]) -> str:
    names = [
        units.get(u.get("unit") or u.get("role", ""), _("a unit")) for u in rule.get("summon", [])
    ]
    return "、".join(names) or _("nobody")


def changes(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    units: Mapping[str, str],
) -> list[Change]:
    """Every change from ``old`` to ``new`` as sentences, by area.

    :param units: unit keys and role keys → their names.
    """
    words = Vocabulary(
        [
            *rows_from_schema(old.get("schema") or {}).rows,
            *rows_from_schema(new.get("schema") or {}).rows,
        ]
    )
    out: list[Change] = []
    if old.get("name") != new.get("name"):
        out.append(
            Change(
                _("Name"),
                _("%(old)s renamed %(new)s")
                % {"old": _q(old.get("name")), "new": _q(new.get("name"))},
            )
        )
    if old.get("title") != new.get("title"):
        out.append(Change(_("Title"), _("the item title is made differently")))
    if old.get("raise_roles") != new.get("raise_roles"):
        out.append(
            Change(
                _("Who may raise it"),
                "、".join(units.get(r, r) for r in new.get("raise_roles") or []) or _("nobody"),
            )
        )
    out += _field_changes(old, new)
    out += _state_changes(old, new)
    wa, wb = old.get("workflow") or {}, new.get("workflow") or {}
    out += _transition_changes(old, new, words)
    for part in ("initial", "on_create", "resolved_states"):
        if wa.get(part) != wb.get(part):
            out.append(
                Change(
                    _("Workflow"),
                    {
                        "initial": _("the state a new item starts in changed"),
                        "on_create": _("what happens when an item is raised changed"),
                        "resolved_states": _("which final states count as solved changed"),
                    }[part],
                )
            )
    out += _routing_changes(old, new, words, units)
    for key in sorted(set(old) | set(new)):
        if key not in COVERED and key not in ("key", "kind") and old.get(key) != new.get(key):
            what = _(OTHER_NAMES[key]) if key in OTHER_NAMES else _("another setting")
            out.append(Change(_("Other settings"), _("changed: %(what)s") % {"what": what}))
    return out
