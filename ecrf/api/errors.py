"""The API's errors: always JSON (never the HTML error page), with a stable shape."""

from __future__ import annotations

from flask import Response, jsonify

#: Where the API lives; every error under it is answered in JSON.
API_PREFIX = "/api/"
#: The realm named in WWW-Authenticate (RFC 6750).
REALM = "ecrf"

NO_TOKEN = "Send a personal access token: 'Authorization: Bearer ecrf_…'."
MALFORMED = "The Authorization header must be 'Bearer' followed by the token."
BAD_TOKEN = "The token is unknown, expired or revoked, or its account is deactivated."


def json_error(status: int, title: str, message: str, *, field: str | None = None) -> Response:
    """``{"error": {status, title, message}}``, with the ``field`` at fault when one is."""
    error: dict = {"status": status, "title": title, "message": message}
    if field:
        error["field"] = field
    response = jsonify(error=error)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer realm="{REALM}"'
    return response
