"""Which widget kinds a site overrides with its own templates (checked once per environment).

``forms/html.py`` writes the same markup as the shipped templates in
``pages/templates/forms/``. A kind is rendered by it only while every template
``render_field`` would use for that kind is the shipped one (same SHA-256) or,
for ``forms/_widget-<kind>.html`` of a kind we ship no widget for, absent.
Otherwise — a site added or changed a template — that kind goes through the
``render_field`` macro, so the override is honoured exactly as before.
"""

from __future__ import annotations

import hashlib
import weakref

from jinja2 import Environment, TemplateNotFound

from forms.specs import KINDS

# SHA-256 of the shipped templates forms/html.py mirrors. Changing one of them
# means changing forms/html.py alike and updating its hash here
# (tests/forms/test_forms_html.py checks both).
SHIPPED: dict[str, str] = {
    "forms/_macros.html": "0b6b3971db44c775d7f6063f9863a35c6b8e21782558e2fbf532b4ec104c44c9",
    "forms/_field.html": "52357da3ec72647469e675bdb14957294a70ba75c7b1d081c47d13b1361c9179",
    "forms/_label.html": "cd79aef3d5cf0cae2c9c3e717901f9b9f5084aeb046c8067b2ea277e99d60426",
    "forms/_messages.html": "d9230d8980457088266470e7d0b601c460347db4391326bc7ebbc52a845aa52c",
    "forms/_widget-checkbox.html": "9b2ed7692aed42ad6d799b9aaa3500f2f3e6cef1ed57d534edd6ccf5f0bd3468",
    "forms/_widget-checkboxes.html": (
        "e5cdc054d4b6f66523ea563a29891f482a1bc21f1d5be6840703fb3f313c97ea"
    ),
    "forms/_widget-file.html": "22160930f45f02f8347a2cdd57436f20e49d1853c779d1b6214839ea2b2fa19f",
    "forms/_widget-group.html": "231abee8976de7ef26b3124509d4d8df8fa7728a73f8b3507dc3f195c719620b",
    "forms/_widget-multiselect.html": (
        "1d01de7c21f51a8bb84e3a7e5e1632b4a722c9c86341804b91fb7d88c57a1527"
    ),
    "forms/_widget-photo.html": "07febe13bb17ff555b60ecd973b0318c762286dd700e38f525181ec0377a91e9",
    "forms/_widget-radio.html": "77cea7c78a2f5d008e383af1d04801bf63e041acd235b39b2a96ea86e9694573",
    "forms/_widget-select.html": "34821ead94315ffb84e3c2459da08c5e0d68c21f4e2d9c2ab4d3ee070f9fb1de",
}
COMMON = ("forms/_macros.html", "forms/_label.html", "forms/_messages.html")

_OVERRIDDEN: weakref.WeakKeyDictionary[Environment, frozenset[str]] = weakref.WeakKeyDictionary()


def widget_name(kind: str) -> str:
    """The override-list name of a kind's widget template."""
    return f"forms/_widget-{kind}.html"


def templates_of(kind: str) -> tuple[str, ...]:
    """Every template ``render_field`` uses for a field of this kind (group children aside)."""
    own = widget_name(kind)
    if own not in SHIPPED:
        return (*COMMON, own, "forms/_field.html")
    if kind == "photo":
        return (*COMMON, own, widget_name("file"))
    return (*COMMON, own)


def overridden(env: Environment) -> frozenset[str]:
    """The kinds whose templates in ``env`` are not the shipped ones (looked up once per env)."""
    found = _OVERRIDDEN.get(env)
    if found is None:
        state = {name: _state(env, name) for kind in KINDS for name in templates_of(kind)}
        found = frozenset(
            kind
            for kind in KINDS
            if any(state[name] != _expected(name) for name in templates_of(kind))
        )
        _OVERRIDDEN[env] = found
    return found


def _expected(name: str) -> str | None:
    return SHIPPED.get(name)


def _state(env: Environment, name: str) -> str | None:
    """SHA-256 of the template's source in ``env``, None when it does not exist."""
    if env.loader is None:
        return None
    try:
        source = env.loader.get_source(env, name)[0]
    except TemplateNotFound:
        return None
    return hashlib.sha256(source.encode("utf-8")).hexdigest()
