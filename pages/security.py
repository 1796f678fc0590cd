"""Security headers on every response, cookie settings for HTTPS, the client's address behind proxies."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

# The pages load scripts and styles from /static only: no inline script element, no
# on*= handlers, no style attributes (tests/web/test_web_security.py checks the
# templates). htmx is told not to inject its indicator style element (base.html).
DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(DIRECTIVES)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Each header with its name as compared (header names are case-insensitive).
_ADDED = tuple((name.lower(), name, value) for name, value in HEADERS.items())


def _on(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def defaults() -> dict[str, Any]:
    """Settings read from the environment (docs/operations.md, "HTTPS and sessions")."""
    secure = _on("SANFANG_SECURE_COOKIES")
    return {
        "SESSION_COOKIE_SECURE": secure,
        # A __Host- cookie is refused by browsers unless Secure, Path=/ and host-only.
        "SESSION_COOKIE_NAME": "__Host-sanfang" if secure else "session",
        "SESSION_HOURS": float(os.environ.get("SANFANG_SESSION_HOURS", "168")),
        "LOGIN_MAX_ATTEMPTS": int(os.environ.get("SANFANG_LOGIN_MAX_ATTEMPTS", "5")),
        "LOGIN_MAX_ATTEMPTS_PER_ADDRESS": int(
            os.environ.get("SANFANG_LOGIN_MAX_ATTEMPTS_PER_ADDRESS", "50")
        ),
        "LOGIN_WINDOW_MINUTES": int(os.environ.get("SANFANG_LOGIN_WINDOW_MINUTES", "15")),
        "PROXIES": int(os.environ.get("SANFANG_PROXIES", "0")),
    }


class SigningKeptSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, the signing serializer made once per set of keys:
    Flask made it twice a request (to read the cookie, and to write it if changed)."""

    _kept: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._kept
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]


def init_app(app: Flask) -> None:
    app.session_interface = SigningKeptSessions()

    @app.after_request
    def _headers(response: Response) -> Response:
        # A header the view set stays (an attachment's own policy). ``setdefault`` looked
        # each name up through the list, raising and catching a KeyError when absent.
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        for lowered, name, value in _ADDED:
            if lowered not in present:
                headers.add(name, value)
        return response

    if app.config["PROXIES"]:
        # The client's address (login throttle, sessions) is the one the proxies saw,
        # read from the last PROXIES entries of X-Forwarded-For; never trust more hops.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
