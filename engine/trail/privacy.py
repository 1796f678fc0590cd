"""Personal data (个人信息) on items: who sees the raiser and the personal answers, and how.

A definition marks personal answers with ``x-personal`` and a yes/no answer that makes
an item anonymous (匿名反映) with ``x-anonymous``; ``personal_roles`` names the roles
that need personal data to do their work (default: the commissioner). Then:

- the raiser sees their own item whole;
- a role that needs the data sees it masked (138****5678) with a "show" action that is
  audited (``item.reveal``);
- everyone else sees it masked;
- an anonymous item withholds its raiser and personal answers from everyone but the
  commissioner (and the raiser): pages, API, exports, webhooks and timelines alike.

The raiser's name counts as a personal answer. Pages and the API call :func:`sight`
once per item and :func:`shown_data`, :func:`raiser_name` and :func:`shown_event_part`
with it; :func:`engine.workflow.items.reveal` is the audited "show"; webhooks call
:func:`for_receiver`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import forms
from engine.core.i18n import gettext as _
from engine.definitions.runtimes import Runtime
from engine.org.actors import Actor
from engine.store.models import HANDLER_ROLE, Item, User

# The commissioner (the handler role) needs the raiser's data by default, and alone knows
# who raised an anonymous item (匿名).
DEFAULT_ROLES = (HANDLER_ROLE,)
ANONYMOUS_ROLES = (HANDLER_ROLE,)
MASK = "****"


@dataclass(frozen=True)
class Sight:
    """How one viewer sees one item's personal data.

    :ivar whole: shown unmasked (the raiser, or a viewer who chose "show").
    :ivar may_reveal: shown masked, with an audited "show" action.
    :ivar withheld: an anonymous item, seen by someone other than its commissioner or
        raiser: its raiser and personal answers are not shown at all.
    """

    whole: bool = False
    may_reveal: bool = False
    withheld: bool = False

    def revealed(self) -> Sight:
        """The sight after an allowed "show"."""
        return Sight(whole=True, may_reveal=False, withheld=False)


WHOLE = Sight(whole=True)
MASKED = Sight()
WITHHELD = Sight(withheld=True)


def _fields(schema: Any) -> list[forms.FieldSpec]:
    if not isinstance(schema, Mapping):
        return []
    try:
        return forms.field_specs(schema)
    except ValueError:
        return []


def _walk(specs: Iterable[forms.FieldSpec]) -> Iterable[forms.FieldSpec]:
    for spec in specs:
        yield spec
        yield from _walk(spec.children)


def personal_kinds(rt: Runtime) -> Mapping[str, str]:
    """Personal answer name → its widget kind (a phone is masked differently), of the type's
    form and its transitions' forms; read once per runtime (runtimes are cached and never change)."""
    cached = getattr(rt, "_personal_kinds", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    schemas = [rt.body.get("schema")] + [t.get("form") for t in rt.workflow.get("transitions", [])]
    kinds = {s.name: s.kind for schema in schemas for s in _walk(_fields(schema)) if s.personal}
    object.__setattr__(rt, "_personal_kinds", kinds)
    return kinds


def personal_names(rt: Runtime) -> frozenset[str]:
    """Names of every personal answer of the type."""
    return frozenset(personal_kinds(rt))


def type_fields(rt: Runtime, transition: str | None = None) -> tuple[forms.FieldSpec, ...]:
    """The fields of the type's form, or of ``transition``'s form (none if it has no valid
    one); built once per runtime (runtimes are cached and never change), not from the
    schema's JSON on every view."""
    cache = rt.__dict__.get("_type_fields")
    if cache is None:
        cache = {}
        object.__setattr__(rt, "_type_fields", cache)
    if transition not in cache:
        spec = rt.transition(transition) if transition is not None else rt.body
        cache[transition] = tuple(_fields((spec or {}).get("form" if transition else "schema")))
    return cache[transition]  # type: ignore[no-any-return]


def is_anonymous(rt: Runtime, data: Mapping[str, Any] | None) -> bool:
    """Whether the raiser asked for anonymity (an ``x-anonymous`` answer is yes)."""
    data = data or {}
    return any(s.anonymous and data.get(s.name) is True for s in type_fields(rt))


def needs_personal(rt: Runtime) -> tuple[str, ...]:
    """The roles that need personal data to do their work."""
    return tuple(rt.body.get("personal_roles") or DEFAULT_ROLES)


def _holds(actor: Actor, item: Item, roles: Iterable[str], unit_paths: Iterable[str]) -> bool:
    roles = list(roles)
    if any(actor.reaches(role, item.node_path) for role in roles):
        return True
    return any(actor.reaches(role, path) for role in roles for path in unit_paths)


def sight(actor: Actor, item: Item, rt: Runtime, *, unit_paths: Iterable[str] = ()) -> Sight:
    """How ``actor`` sees ``item``'s personal data.

    :param unit_paths: paths of the units summoned to the item, for roles (a department)
        that act on it through a summons rather than at its node.
    """
    if item.raised_by_id is not None and item.raised_by_id == actor.user.id:
        return WHOLE
    if item.data is None:
        return WITHHELD  # a row read without its answers cannot tell anonymity: assume it
    if is_anonymous(rt, item.data):
        return Sight(may_reveal=True) if _holds(actor, item, ANONYMOUS_ROLES, ()) else WITHHELD
    if _holds(actor, item, needs_personal(rt), unit_paths):
        return Sight(may_reveal=True)
    return MASKED


def mask(value: Any, kind: str = "text") -> Any:
    """A personal answer as those who do not need it see it: 138****5678, 张*, 3**1."""
    if value is None or value == "" or isinstance(value, bool):
        return value
    if isinstance(value, list):
        return [mask(v, kind) for v in value]
    if isinstance(value, Mapping):
        return {k: mask(v, kind) for k, v in value.items()}
    text = str(value)
    digits = sum(c.isdigit() for c in text)
    if kind == "phone" or (digits >= 7 and digits >= len(text) - 2):
        return text[:3] + MASK + text[-4:] if len(text) > 7 else MASK
    if len(text) <= 2:
        return text[0] + "*"
    return text[0] + "*" * min(len(text) - 2, 4) + text[-1]


def _shown_answers(
    data: Mapping[str, Any], kinds: Mapping[str, str], view: Sight
) -> dict[str, Any]:
    """``data`` with its personal answers masked, or left out when withheld."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
            value = [_shown_answers(row, kinds, view) for row in value]  # a group's rows
        elif name in kinds and not view.whole:
            if view.withheld:
                continue
            value = mask(value, kinds[name])
        out[name] = value
    return out


def shown_data(item: Item, rt: Runtime, view: Sight) -> dict[str, Any]:
    """The item's answers as ``view`` allows."""
    if view.whole:
        return dict(item.data or {})
    return _shown_answers(item.data or {}, personal_kinds(rt), view)


def raiser_name(item: Item, view: Sight) -> str | None:
    """The raiser's name as ``view`` allows: whole, masked, or "匿名" (anonymous)."""
    if item.raised_by_id is None:
        return None
    if view.withheld:
        return _("Anonymous")
    name = item.raised_by.name
    return str(name) if view.whole else str(mask(name))


def raiser_username(item: Item, view: Sight) -> str | None:
    """The raiser's account as the API shows it: none when withheld."""
    if item.raised_by_id is None or view.withheld:
        return None
    return str(item.raised_by.username)


# Events: what each kind of audit event carries of an item's answers.
_ANSWER_KEYS = ("data", "form")


def _may_hold_answers(key: Any) -> bool:
    """Whether an event part's ``key`` may carry personal answers (see shown_event_part)."""
    return key in _ANSWER_KEYS or key == "inputs" or (isinstance(key, str) and "." in key)


def shown_event_part(part: Any, kinds: Mapping[str, str], view: Sight) -> Any:
    """An event's ``before``/``after``/``detail`` with personal answers masked or left out
    (the part itself when it holds no answers, inputs or answer keys: a state, a label)."""
    if view.whole or not isinstance(part, Mapping) or not any(map(_may_hold_answers, part)):
        return part
    out: dict[str, Any] = {}
    for key, value in part.items():
        if key in _ANSWER_KEYS and isinstance(value, Mapping):
            value = _shown_answers(value, kinds, view)
        elif key == "inputs" and isinstance(value, Mapping):
            value = _shown_inputs(value, kinds, view)
        elif "." in key and key.partition(".")[0] in _ANSWER_KEYS:  # item.set: "data.phone"
            name = key.partition(".")[2]
            if name in kinds:
                if view.withheld:
                    continue
                value = mask(value, kinds[name])
        out[key] = value
    return out


def _shown_inputs(
    inputs: Mapping[str, Any], kinds: Mapping[str, str], view: Sight
) -> dict[str, Any]:
    """A routing decision's inputs (``data.contact_phone`` …) as ``view`` allows."""
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        head, _dot, rest = name.partition(".")
        field = rest.split(".")[0]
        if head in _ANSWER_KEYS and field in kinds:
            if view.withheld:
                continue
            value = mask(value, kinds[field])
        out[name] = value
    return out


def actor_label(event_actor: User | None, item: Item, view: Sight) -> str | None:
    """Who did it, as ``view`` allows: the raiser's name is personal data."""
    if event_actor is None:
        return None
    return actor_name(event_actor.id, event_actor.name, item, view)


def actor_name(actor_id: int | None, name: str | None, item: Item, view: Sight) -> str | None:
    """:func:`actor_label` from the event's actor id and that user's name (a timeline row's)."""
    if actor_id is None:
        return None
    if item.raised_by_id is not None and actor_id == item.raised_by_id:
        return raiser_name(item, view)
    return str(name)


def for_receiver(
    rt: Runtime,
    data: Mapping[str, Any] | None,
    raiser: str | None,
    payload: Mapping[str, Any],
    *,
    personal: bool,
) -> dict[str, Any]:
    """A webhook payload about an item as a receiver may have it.

    A receiver allowed personal data gets it whole unless the item is anonymous; any
    other gets no personal answers and no person's name, and never the raiser of an
    anonymous item as an actor (a notification to them keeps only the account, so the
    district's messenger can still deliver it).

    :param data: the item's answers; :param raiser: its raiser's username.
    """
    view = WHOLE if personal and not is_anonymous(rt, data) else WITHHELD
    if view.whole:
        return dict(payload)
    kinds = personal_kinds(rt)
    out = {
        k: shown_event_part(v, kinds, view) if k in ("before", "after", "detail") else v
        for k, v in payload.items()
    }
    for key in ("actor", "recipient"):
        person = out.get(key)
        if not isinstance(person, Mapping):
            continue
        if raiser is not None and person.get("username") == raiser:
            out[key] = None if key == "actor" else {"username": raiser}
        elif not personal:
            out[key] = {"username": person.get("username")}
    return out
