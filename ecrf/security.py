"""Security headers on every response: CSP, framing, sniffing, referrer, caching, HSTS.

About forty lines rather than flask-talisman: its last release (1.1.0) dates from 2023,
it redirects to HTTPS itself (the proxy's job here) and it does not set Cache-Control.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

#: Scripts and styles come only from static files: no inline code, so injected markup
#: cannot run. data: images are the browser's own form widgets.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000"

FIXED_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_security(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.update(FIXED_HEADERS)
        if request.endpoint != "static":
            # Pages carry clinical data: no copy in the browser's or a proxy's cache, so the
            # back button after sign-out or on a shared ward computer shows nothing.
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        if request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = HSTS
        return response
