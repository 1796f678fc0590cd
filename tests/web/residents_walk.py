"""What a resident's page says, as words on the screen: the visible text of a page (and
the alt, title, aria-label and placeholder a screen reader speaks), less what is marked
as another language (lang="en", a language's own name), and every /r page reachable."""

from __future__ import annotations

import re
from html.parser import HTMLParser

SPOKEN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")
HIDDEN = ("script", "style", "template")
VOID = ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr")


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, silent)

    def _silent(self) -> bool:
        return any(silent for _tag, silent in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        silent = tag in HIDDEN or (named.get("lang") or "").startswith("en")
        if not silent and not self._silent():
            self.parts += [v for k, v in attrs if k in SPOKEN_ATTRIBUTES and v]
            if tag == "input" and named.get("type") in ("submit", "button") and named.get("value"):
                self.parts.append(named["value"] or "")
        if tag not in VOID:
            self.stack.append((tag, silent))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._silent() and data.strip():
            self.parts.append(data.strip())


def words(html: str) -> str:
    """The page's text as a reader meets it, one part per line."""
    parser = _Words()
    body = html.split("<body", 1)[-1]
    parser.feed("<body" + body)
    head_title = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
    return "\n".join(([head_title.group(1).strip()] if head_title else []) + parser.parts)


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|T\d{2}:\d{2}")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
JSON_LIKE = re.compile(r"[{\[]\s*\"|\"\s*:")


def problems(text: str, keys: set[str]) -> list[str]:
    """What a resident must not read: an ISO date or time, a word in Latin letters (a key,
    a rule name, English), JSON, a version number (v1)."""
    found = [f"ISO time {m.group(0)!r}" for m in ISO_DATE.finditer(text)]
    found += [
        f"{'key' if m.group(0) in keys else 'English'} {m.group(0)!r}"
        for m in LATIN_WORD.finditer(text)
    ]
    found += [f"JSON {m.group(0)!r}" for m in JSON_LIKE.finditer(text)]
    found += [f"version {m.group(0)!r}" for m in re.finditer(r"\bv\d+\b", text)]
    return found


def resident_links(html: str) -> set[str]:
    """The /r pages a page links to (GET), without fragments."""
    return {
        href.split("#", 1)[0].replace("&amp;", "&")
        for href in re.findall(r'href="(/r/[^"]*)"', html)
    }
