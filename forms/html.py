"""The field block of a bound form as HTML, precompiled once per schema.

What ``forms/_form_fields.html`` outputs, byte for byte the markup of the
shipped templates (``render_field`` and ``forms/_widget-<kind>.html``), but
labels, help, options and fixed attributes are escaped once per schema; a
request only adds values, errors, visibility and the translated template words.
A field whose templates a site overrides goes through the ``render_field``
macro instead (see ``forms/templates.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from forms.specs import FieldSpec, specs_of
from forms.templates import overridden
from forms.wtf import render_kw

if TYPE_CHECKING:
    from jinja2.runtime import Context

    from forms.binding import BoundForm

# The type attribute WTForms' widget gives each input-like kind.
INPUT_TYPES: Mapping[str, str] = {
    "text": "text",
    "email": "email",
    "uri": "url",
    "phone": "tel",
    "date": "date",
    "datetime": "datetime-local",
    "time": "time",
    "integer": "number",
    "number": "number",
}


class Words:
    """One render's Jinja side: template words translated by the page's ``_`` when first
    used, the kinds the site overrides, and the ``render_field`` macro for those."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._gettext = context.resolve("_")
        self.overridden = overridden(context.environment)

    @functools.cached_property
    def render_field(self) -> Callable[..., str]:
        # Imported without context, as `{% from "forms/_macros.html" import render_field %}`.
        module = self._context.environment.get_template("forms/_macros.html").module
        macro: Callable[..., str] = module.render_field  # type: ignore[attr-defined]
        return macro

    def __call__(self, msgid: str, **params: Any) -> Markup:
        return escape(self._context.call(self._gettext, msgid, **params))

    def attachment_url(self, public_id: str) -> Markup:
        """Where the page shows a stored attachment (its ``attachment_url`` global)."""
        return escape(self._context.call(self._context.resolve("attachment_url"), public_id))

    @functools.cached_property
    def required(self) -> Markup:
        return Markup('<span class="sf-required" title="%s">*</span>') % self("required")

    @functools.cached_property
    def choose(self) -> Markup:
        return self("Choose…")


Render = Callable[["Widget", Any, Words], str]


@dataclass(frozen=True)
class Widget:
    """One field, its fixed parts escaped once: label, help, options, static attributes."""

    spec: FieldSpec
    render: Render
    label: Markup
    help: Markup | None
    options: tuple[tuple[Any, Markup], ...]
    # Attribute name → its HTML (``name="value"`` or the bare name), for inputs.
    attrs: Mapping[str, str]
    # The fixed aria/data attributes a fieldset or select carries, in template order.
    fixed_aria: Mapping[str, str]
    children: tuple[Widget, ...] = ()

    def label_html(self, words: Words) -> str:
        return self.label + words.required if self.spec.required else self.label


def render_fields(context: Context, bound: BoundForm) -> Markup:
    """The whole ``<div id="sf-fields">`` block of ``bound`` for this Jinja context."""
    words = Words(context)
    out = ['<div id="sf-fields">']
    form_errors = [error for error in bound.errors if error.path == ""]
    if form_errors:
        out.append('\n<div class="form-errors" role="alert">')
        out += [f'\n<p class="field-error">{escape(e.message)}</p>' for e in form_errors]
        out.append("\n</div>")
    form, visible = bound.form, bound.visible
    for widget in widgets(bound.key):
        out.append("\n")
        if visible.get(widget.spec.path, True):
            out.append(_one(widget, form[widget.spec.name], words))
    out.append("\n</div>")
    return Markup("".join(out))


def _one(widget: Widget, field: Any, words: Words) -> str:
    if widget.spec.kind in words.overridden:
        return words.render_field(field, widget.spec)
    return widget.render(widget, field, words)


@functools.lru_cache(maxsize=512)
def widgets(key: str) -> tuple[Widget, ...]:
    """The precompiled widgets of a schema, by its canonical JSON (``specs.canonical``)."""
    return tuple(_compile(spec) for spec in specs_of(key))


def _compile(spec: FieldSpec) -> Widget:
    render = RENDERERS.get(spec.kind, _input)
    attrs: dict[str, Any] = {}
    if render in (_input, _textarea, _checkbox):
        attrs.update(render_kw(spec))
        if spec.kind in INPUT_TYPES:
            attrs["type"] = INPUT_TYPES[spec.kind]
        if spec.kind == "checkbox":
            attrs["type"] = "checkbox"
            if spec.read_only:
                attrs["disabled"] = True
        if spec.kind == "number":
            attrs.setdefault("step", "any")
    fixed = {
        "aria-required": "true" if spec.required else None,
        "data-sf-refresh": "1" if spec.refresh else None,
    }
    fixed_aria = {k: v for k, v in fixed.items() if v is not None}
    attrs.update(fixed_aria)
    return Widget(
        spec=spec,
        render=render,
        label=escape(spec.label),
        help=escape(spec.help) if spec.help else None,
        options=tuple((value, escape(label)) for value, label in spec.options),
        attrs={k: _param(k, v) for k, v in attrs.items() if v is not False},
        fixed_aria={k: f'{k}="{escape(v)}"' for k, v in fixed_aria.items()},
        children=tuple(_compile(child) for child in spec.children),
    )


def _param(key: str, value: Any) -> str:
    """One attribute as WTForms' ``html_params`` writes it."""
    return key if value is True else f'{key}="{escape(value)}"'


def _dynamic_aria(widget: Widget, fid: str, errors: Any) -> dict[str, str]:
    """aria-invalid and aria-describedby, which depend on this request's errors."""
    described = []
    if widget.help is not None:
        described.append(f"{fid}-help")
    if errors:
        described.append(f"{fid}-error")
    out = {}
    if described:
        out["aria-describedby"] = f'aria-describedby="{" ".join(described)}"'
    if errors:
        out["aria-invalid"] = 'aria-invalid="true"'
    return out


def _xmlattr(widget: Widget, fid: str, errors: Any, *, without: str = "") -> str:
    """The aria/data attributes in the order ``render_field`` sorts them (for ``|xmlattr``).

    :param without: an attribute the element may not carry (a checkbox group's
        ``aria-required``: ARIA allows it on no ``group``).
    """
    merged = _dynamic_aria(widget, fid, errors)
    merged.update(widget.fixed_aria)
    return "".join(" " + merged[k] for k in sorted(merged) if k != without)


def _messages(widget: Widget, fid: str, errors: Iterable[Any]) -> str:
    out = ""
    if widget.help is not None:
        out = f'\n<p class="field-help" id="{fid}-help">{widget.help}</p>'
    if errors:
        text = " ".join(escape(message) for message in errors)
        out += f'\n<p class="field-error" id="{fid}-error">{text}</p>'
    return out


def _params(widget: Widget, extra: dict[str, str]) -> str:
    extra.update(widget.attrs)
    return " ".join(extra[k] for k in sorted(extra))


def _opening(tag: str, widget: Widget, fid: str, errors: Any) -> str:
    has_error = " has-error" if errors else ""
    return f'<{tag} class="field field-{widget.spec.kind}{has_error}" id="{fid}-field"'


def _input(widget: Widget, field: Any, words: Words) -> str:
    fid, errors = escape(field.id), field.errors
    attrs = _dynamic_aria(widget, fid, errors)
    attrs["id"] = f'id="{fid}"'
    attrs["name"] = f'name="{escape(field.name)}"'
    attrs["value"] = f'value="{escape(field._value())}"'
    return (
        f"{_opening('div', widget, fid, errors)}>\n"
        f'<label for="{fid}">{widget.label_html(words)}</label>\n'
        f"<input {_params(widget, attrs)}>{_messages(widget, fid, errors)}\n</div>"
    )


def _textarea(widget: Widget, field: Any, words: Words) -> str:
    fid, errors = escape(field.id), field.errors
    attrs = _dynamic_aria(widget, fid, errors)
    attrs["id"] = f'id="{fid}"'
    attrs["name"] = f'name="{escape(field.name)}"'
    return (
        f"{_opening('div', widget, fid, errors)}>\n"
        f'<label for="{fid}">{widget.label_html(words)}</label>\n'
        f"<textarea {_params(widget, attrs)}>\r\n{escape(field._value())}</textarea>"
        f"{_messages(widget, fid, errors)}\n</div>"
    )


def _checkbox(widget: Widget, field: Any, words: Words) -> str:
    fid, errors = escape(field.id), field.errors
    attrs = _dynamic_aria(widget, fid, errors)
    attrs["id"] = f'id="{fid}"'
    attrs["name"] = f'name="{escape(field.name)}"'
    attrs["value"] = f'value="{escape(field._value())}"'
    if field.data:
        attrs["checked"] = "checked"
    return (
        f"{_opening('div', widget, fid, errors)}>\n"
        f"<input {_params(widget, attrs)}>\n"
        f'<label for="{fid}">{widget.label_html(words)}</label>'
        f"{_messages(widget, fid, errors)}\n</div>"
    )


def _options(widget: Widget, field: Any, words: Words) -> str:
    """select and multiselect."""
    fid, errors, spec = escape(field.id), field.errors, widget.spec
    multiple = spec.kind == "multiselect"
    data = field.data
    chosen = (data or []) if multiple else (data,)
    head = (
        f"{_opening('div', widget, fid, errors)}>\n"
        f'<label for="{fid}">{widget.label_html(words)}</label>\n'
        f'<select id="{fid}" name="{escape(field.name)}"{" multiple" if multiple else ""}'
        f"{_xmlattr(widget, fid, errors)}{' disabled' if spec.read_only else ''}>"
    )
    out = [head]
    if not multiple:
        placeholder = escape(spec.placeholder) if spec.placeholder else words.choose
        out.append(f'\n<option value="">{placeholder}</option>')
    for value, label in widget.options:
        selected = " selected" if (value in chosen if multiple else data == value) else ""
        out.append(f'\n<option value="{escape(value)}"{selected}>{label}</option>')
    out.append(f"\n</select>{_messages(widget, fid, errors)}\n</div>")
    return "".join(out)


def _choices(widget: Widget, field: Any, words: Words) -> str:
    """radio and checkboxes: a fieldset of options."""
    fid, errors, spec = escape(field.id), field.errors, widget.spec
    radio = spec.kind == "radio"
    data, name = field.data, escape(field.name)
    chosen = () if radio else (data or [])
    kind = "radio" if radio else "checkbox"
    tail = " disabled" if spec.read_only else ""
    tail += ' data-sf-refresh="1"' if spec.refresh else ""
    # A radio group is a radiogroup (which may be aria-required); checkboxes a plain group.
    role, attributes = (
        (' role="radiogroup"', _xmlattr(widget, fid, errors))
        if radio
        else ("", _xmlattr(widget, fid, errors, without="aria-required"))
    )
    head = (
        f"{_opening('fieldset', widget, fid, errors)}{role}{attributes}>\n"
        f"<legend>{widget.label_html(words)}</legend>"
    )
    out = [head]
    for index, (value, label) in enumerate(widget.options):
        checked = " checked" if (data == value if radio else value in chosen) else ""
        out.append(
            f'\n<label class="sf-option"><input type="{kind}" id="{fid}-{index}" name="{name}"'
            f' value="{escape(value)}"{checked}{tail}> {label}</label>'
        )
    out.append(f"{_messages(widget, fid, errors)}\n</fieldset>")
    return "".join(out)


def _files(widget: Widget, field: Any, words: Words) -> str:
    """photo and file: kept attachments as checkboxes, then a file input."""
    fid, errors, spec = escape(field.id), field.errors, widget.spec
    name = escape(field.name)
    head = (
        f"{_opening('div', widget, fid, errors)}>\n"
        f'<label for="{fid}">{widget.label_html(words)}</label>'
    )
    out = [head]
    keep = words("Keep this attachment") if field.data else ""
    photo = spec.kind == "photo"
    for number, attachment in enumerate(field.data or [], start=1):
        value = escape(attachment)
        shown = (
            f'<img src="{words.attachment_url(attachment)}"'
            f' alt="{words("Uploaded photo %(n)s", n=number)}" class="thumb">'
            if photo
            else words("Uploaded file %(n)s", n=number)
        )
        out.append(
            f'\n<label class="sf-attachment"><input type="checkbox" name="{name}" value="{value}"'
            f' checked title="{keep}"> <span data-attachment-id="{value}">{shown}</span></label>'
        )
    if not spec.read_only:
        accept = spec.accept or ("image/*" if photo else None)
        extra = f' accept="{escape(accept)}"' if accept is not None else ""
        if spec.max_items is not None:
            extra += f' data-max-items="{escape(spec.max_items)}"'
        extra += f' data-chosen="{words("%(n)s chosen", n="{n}")}"'
        pick = words("Choose photos") if photo else words("Choose files")
        out.append(
            f'\n<input type="file" id="{fid}" name="{name}" multiple class="sf-file"'
            f"{_xmlattr(widget, fid, errors)}{extra}>"
            f'\n<label for="{fid}" class="button file-pick" aria-hidden="true">{pick}</label>'
            '\n<span class="file-chosen muted" aria-live="polite"></span>'
        )
    out.append(f"{_messages(widget, fid, errors)}\n</div>")
    return "".join(out)


def _group(widget: Widget, field: Any, words: Words) -> str:
    """Repeatable rows, each with its children, and the add/remove buttons."""
    fid, errors, spec = escape(field.id), field.errors, widget.spec
    path = escape(field.sf_path)
    # A group's fieldset may not be aria-required (its rows' fields say what they need).
    attributes = _xmlattr(widget, fid, errors, without="aria-required")
    head = (
        f"{_opening('fieldset', widget, fid, errors)}{attributes}>\n"
        f"<legend>{widget.label_html(words)}</legend>"
    )
    out = [head]
    for index, entry in enumerate(field.entries):
        out.append(
            f'\n<fieldset class="sf-row" id="{escape(entry.id)}">\n'
            f"<legend>{words('Row %(num)s', num=index + 1)}</legend>"
        )
        for child in widget.children:
            subfield = entry.form[child.spec.name]
            out.append("\n")
            if subfield.sf_visible:
                out.append(_one(child, subfield, words))
        if not spec.read_only:
            out.append(
                f'\n<button type="submit" class="sf-remove" name="_remove" value="{path}/{index}"'
                f" formnovalidate>{words('Remove')}</button>"
            )
        out.append("\n</fieldset>")
    if not spec.read_only and (spec.max_items is None or len(field.entries) < spec.max_items):
        out.append(
            f'\n<button type="submit" class="sf-add" name="_add" value="{path}"'
            f" formnovalidate>{words('Add a row')}</button>"
        )
    out.append(f"{_messages(widget, fid, errors)}\n</fieldset>")
    return "".join(out)


RENDERERS: Mapping[str, Render] = {
    "textarea": _textarea,
    "checkbox": _checkbox,
    "select": _options,
    "multiselect": _options,
    "radio": _choices,
    "checkboxes": _choices,
    "photo": _files,
    "file": _files,
    "group": _group,
}
