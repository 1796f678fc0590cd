"""Security headers on every response, cookie settings for HTTPS, the client's address behind proxies."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response

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


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    if app.config["PROXIES"]:
        # The client's address (login throttle, sessions) is the one the proxies saw,
        # read from the last PROXIES entries of X-Forwarded-For; never trust more hops.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
