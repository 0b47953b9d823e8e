"""The API's messages about tokens; its JSON error shape is ``ecrf.errors.json_error``
(the error handlers answer every path under the API in JSON, pages or not)."""

from __future__ import annotations

NO_TOKEN = "Send a personal access token: 'Authorization: Bearer ecrf_…'."
MALFORMED = "The Authorization header must be 'Bearer' followed by the token."
BAD_TOKEN = "The token is unknown, expired or revoked, or its account is deactivated."
