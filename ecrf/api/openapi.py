"""The OpenAPI 3.1 document of /api/v1, written by hand next to the views it describes.

A test validates it (openapi-spec-validator) and checks every endpoint's real responses
against it (openapi-core). The export endpoints (start an extract, poll its job, download
the result) are under EXPORT_PATHS.
"""

from __future__ import annotations

import copy
from typing import Any

VERSION = "1.0.0"


def _nullable(kind: str, **extra: Any) -> dict:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict[str, Any], *, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_STR, _INT, _BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time"}
_URL = {"type": "string", "format": "uri"}
_SUBJECT_STATUS = {
    "type": "string",
    "enum": ["screening", "screen_failure", "included", "in_follow_up", "completed", "withdrawn"],
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "status": _INT,
                    "title": _STR,
                    "message": _STR,
                    "field": {
                        "type": "string",
                        "description": "The parameter or body field at fault, when one is.",
                    },
                },
                required=["status", "title", "message"],
            )
        }
    ),
    "Me": _object(
        {
            "username": _STR,
            "full_name": _STR,
            "roles": {
                "type": "array",
                "items": _object({"role": _STR, "site": _nullable("string")}),
            },
            "subject_sites": {"type": "array", "items": _STR},
            "free_text_withheld": _BOOL,
        }
    ),
    "SubjectSummary": _object(
        {
            "identifier": _STR,
            "site": _STR,
            "status": _SUBJECT_STATUS,
            "created_at": _TIME,
            "links": _object({"self": _URL}),
        }
    ),
    "PageLinks": _object(
        {
            "self": _URL,
            "first": _URL,
            "last": _URL,
            "prev": _nullable("string", format="uri"),
            "next": _nullable("string", format="uri"),
        }
    ),
    "SubjectPage": _object(
        {
            "items": {"type": "array", "items": _ref("SubjectSummary")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "links": _ref("PageLinks"),
        }
    ),
    "FormSummary": _object(
        {
            "form_oid": _STR,
            "name": _nullable("string"),
            "status": {"type": "string", "enum": ["draft", "complete"]},
            "updated_at": _TIME,
        }
    ),
    "VisitSummary": _object(
        {
            "visit_oid": _STR,
            "name": _nullable("string"),
            "repeat_key": _INT,
            "visit_date": _nullable("string", format="date"),
            "out_of_window": _BOOL,
            "deviation_reason": _nullable(
                "string", description="Free text: null for readers from whom it is withheld."
            ),
            "forms": {"type": "array", "items": _ref("FormSummary")},
            "links": _object({"self": _URL}),
        }
    ),
    "Subject": _object(
        {
            "identifier": _STR,
            "site": _STR,
            "status": _SUBJECT_STATUS,
            "created_at": _TIME,
            "status_reason": _nullable(
                "string", description="Free text: null for readers from whom it is withheld."
            ),
            "visits": {"type": "array", "items": _ref("VisitSummary")},
            "links": _object(
                {
                    "self": _URL,
                    "findings": _URL,
                    "queries": _URL,
                    "signatures": _URL,
                    "verification": _URL,
                }
            ),
        }
    ),
    "ItemValue": _object(
        {
            "item_oid": _STR,
            "value": _nullable(
                "string",
                description="The code for coded items, else the canonical text: decimals keep "
                "their digits, dates are ISO 8601 and partial dates stay as entered.",
            ),
            "decode": _nullable("string", description="The code's label, for coded items."),
            "unit": _nullable(
                "string",
                description="UCUM symbol of the unit the value was entered in, for items with "
                "several units (null: the item's only, or standard, unit).",
            ),
            "missing_code": {
                "type": ["string", "null"],
                "enum": ["NA", "ND", "UNK", "NASK", None],
                "description": "Why there is no value.",
            },
            "derived": {"type": "boolean", "description": "Computed by the system, not entered."},
            "withheld": {
                "type": "boolean",
                "description": "A free-text item withheld from this reader (value null).",
            },
        }
    ),
    "ItemGroupRow": _object(
        {
            "group_oid": _STR,
            "repeat_key": _INT,
            "items": {"type": "array", "items": _ref("ItemValue")},
        }
    ),
    "FormData": _object(
        {
            "form_oid": _STR,
            "name": _nullable("string"),
            "status": {"type": "string", "enum": ["draft", "complete"]},
            "version": _INT,
            "definition_version": _STR,
            "updated_at": _TIME,
            "rows": {"type": "array", "items": _ref("ItemGroupRow")},
        }
    ),
    "Visit": _object(
        {
            "subject": _STR,
            "visit_oid": _STR,
            "name": _nullable("string"),
            "repeat_key": _INT,
            "visit_date": _nullable("string", format="date"),
            "forms": {"type": "array", "items": _ref("FormData")},
        }
    ),
    "Finding": _object(
        {
            "id": _INT,
            "visit_oid": _STR,
            "visit_repeat_key": _INT,
            "form_oid": _STR,
            "group_oid": _STR,
            "repeat_key": _INT,
            "item_oid": _STR,
            "check": _STR,
            "severity": _STR,
            "message": _STR,
            "status": {"type": "string", "enum": ["open", "resolved"]},
            "opened_at": _TIME,
            "resolved_at": _nullable("string", format="date-time"),
        }
    ),
    "QueryMessage": _object(
        {
            "kind": {
                "type": "string",
                "enum": ["opened", "answered", "closed", "reopened", "resolved"],
            },
            "author": _nullable("string", description="Null when the system wrote it."),
            "at": _TIME,
            "text": _nullable(
                "string", description="Free text: null for readers from whom it is withheld."
            ),
        }
    ),
    "Query": _object(
        {
            "id": _INT,
            "visit_oid": _STR,
            "visit_repeat_key": _INT,
            "form_oid": _nullable("string"),
            "group_oid": _nullable("string"),
            "repeat_key": _nullable("integer"),
            "item_oid": _nullable("string"),
            "level": {"type": "string", "enum": ["item", "row", "form", "visit"]},
            "state": {"type": "string", "enum": ["open", "answered", "closed"]},
            "check": _nullable("string", description="The edit check behind an automatic one."),
            "opened_at": _TIME,
            "closed_at": _nullable("string", format="date-time"),
            "messages": {"type": "array", "items": _ref("QueryMessage")},
        }
    ),
    "QueryList": _object(
        {
            "items": {"type": "array", "items": _ref("Query")},
            "total": {"type": "integer", "minimum": 0},
        }
    ),
    "Signature": _object(
        {
            "id": _INT,
            "scope": {"type": "string", "enum": ["visit", "inclusion", "casebook"]},
            "visit_oid": _nullable("string", description="The visit signed (scope visit)."),
            "visit_repeat_key": _nullable("integer"),
            "signer": _STR,
            "printed_name": _STR,
            "role": _STR,
            "meaning": {"type": "string", "description": "The statement signed, verbatim."},
            "signed_at": _TIME,
            "content_sha256": {
                "type": "string",
                "description": "SHA-256 of the signed content, which it stays bound to.",
            },
            "open_queries_at_signing": {"type": "integer", "minimum": 0},
            "state": {"type": "string", "enum": ["valid", "invalidated"]},
            "invalidated_at": _nullable("string", format="date-time"),
            "invalidated_because": _nullable(
                "string", description="The change that invalidated it, in words."
            ),
        }
    ),
    "SignatureList": _object(
        {
            "items": {"type": "array", "items": _ref("Signature")},
            "total": {"type": "integer", "minimum": 0},
        }
    ),
    "FormVerification": _object(
        {
            "visit_oid": _STR,
            "visit_repeat_key": _INT,
            "form_oid": _STR,
            "critical": {"type": "boolean"},
            "in_plan": {"type": "boolean"},
            "values": {"type": "integer", "minimum": 0},
            "required": {"type": "integer", "minimum": 0},
            "verified": {"type": "integer", "minimum": 0},
            "withdrawn": {"type": "integer", "minimum": 0},
            "verified_beyond_plan": {"type": "integer", "minimum": 0},
        }
    ),
    "Verification": _object(
        {
            "identifier": _STR,
            "sampled": {"type": "boolean"},
            "site_percentage": {"type": "integer", "minimum": 0, "maximum": 100},
            "required": {"type": "integer", "minimum": 0},
            "verified": {"type": "integer", "minimum": 0},
            "withdrawn": {"type": "integer", "minimum": 0},
            "forms": {"type": "array", "items": _ref("FormVerification")},
        }
    ),
    "FindingList": _object(
        {
            "items": {"type": "array", "items": _ref("Finding")},
            "total": {"type": "integer", "minimum": 0},
        }
    ),
    "ExportKind": _object(
        {
            "kind": {"type": "string", "description": "The name to start it with, e.g. odm."},
            "label": _STR,
            "sites": {
                "type": "array",
                "items": _STR,
                "description": "The site codes this account may run it at.",
            },
        }
    ),
    "ExportList": _object(
        {
            "items": {"type": "array", "items": _ref("ExportKind")},
            "links": _object({"jobs": _URL}),
        }
    ),
    "StartExport": {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "description": "One of the kinds GET /exports lists."},
            "site": {
                "type": ["string", "null"],
                "description": "One site code; absent or null: all the account's sites.",
            },
        },
        "required": ["kind"],
        "additionalProperties": False,
    },
    "Job": _object(
        {
            "id": _INT,
            "kind": _STR,
            "label": _STR,
            "sites": {
                "type": ["array", "null"],
                "items": _STR,
                "description": "The site codes the extract covers; null: every site.",
            },
            "state": {
                "type": "string",
                "enum": ["queued", "running", "done", "failed", "expired"],
            },
            "progress": _object(
                {
                    "done": {"type": "integer", "minimum": 0},
                    "total": {"type": "integer", "minimum": 0},
                    "percent": {"type": "integer", "minimum": 0, "maximum": 100},
                }
            ),
            "result": {
                **_object(
                    {
                        "name": _nullable("string"),
                        "size": _nullable("integer"),
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    }
                ),
                "type": ["object", "null"],
                "description": "The file, once done (kept as a record after it expires).",
            },
            "error": _nullable("string", description="Why it failed, in words for the user."),
            "created_at": _TIME,
            "started_at": _nullable("string", format="date-time"),
            "finished_at": _nullable("string", format="date-time"),
            "expires_at": _nullable(
                "string", format="date-time", description="When the file will be deleted."
            ),
            "links": _object(
                {
                    "self": _URL,
                    "download": _nullable(
                        "string", format="uri", description="Only while the job is done."
                    ),
                }
            ),
        }
    ),
    "JobPage": _object(
        {
            "items": {"type": "array", "items": _ref("Job")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "links": _ref("PageLinks"),
        }
    ),
}


def _json(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}
_NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}
_IDENTIFIER = {
    "name": "identifier",
    "in": "path",
    "required": True,
    "description": "The subject's identifier, SITE-NNN.",
    "schema": {"type": "string", "maxLength": 20},
}

PATHS: dict[str, Any] = {
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document (no token needed).",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
    "/me": {
        "get": {
            "operationId": "me",
            "summary": "Who the token acts as: roles, sites, free text withheld or not.",
            "responses": {"200": _json("Me", "The token's account."), "401": _ERRORS["401"]},
        }
    },
    "/subjects": {
        "get": {
            "operationId": "listSubjects",
            "summary": "One page of the subjects in the token's site scope.",
            "parameters": [
                {
                    "name": "site",
                    "in": "query",
                    "description": "A site code; a site outside the scope matches nothing.",
                    "schema": {"type": "string"},
                },
                {"name": "status", "in": "query", "schema": _SUBJECT_STATUS},
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "default": 1},
                },
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
                },
            ],
            "responses": {"200": _json("SubjectPage", "A page of subjects."), **_ERRORS},
        }
    },
    "/subjects/{identifier}": {
        "get": {
            "operationId": "getSubject",
            "summary": "A subject with its visits and the forms opened in each.",
            "parameters": [_IDENTIFIER],
            "responses": {"200": _json("Subject", "The subject."), **_ERRORS, **_NOT_FOUND},
        }
    },
    "/subjects/{identifier}/visits/{visit_oid}/{repeat_key}": {
        "get": {
            "operationId": "getVisit",
            "summary": "A visit's forms with their item group rows and values.",
            "parameters": [
                _IDENTIFIER,
                {"name": "visit_oid", "in": "path", "required": True, "schema": _STR},
                {
                    "name": "repeat_key",
                    "in": "path",
                    "required": True,
                    "description": "1, or the number of an unscheduled visit.",
                    "schema": {"type": "integer", "minimum": 0},
                },
            ],
            "responses": {"200": _json("Visit", "The visit."), **_ERRORS, **_NOT_FOUND},
        }
    },
    "/subjects/{identifier}/findings": {
        "get": {
            "operationId": "listFindings",
            "summary": "The edit-check findings of a subject.",
            "parameters": [
                _IDENTIFIER,
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["open", "resolved"]},
                },
            ],
            "responses": {
                "200": _json("FindingList", "The findings, oldest first."),
                **_ERRORS,
                **_NOT_FOUND,
            },
        }
    },
    "/subjects/{identifier}/queries": {
        "get": {
            "operationId": "listQueries",
            "summary": "The queries of a subject, each with its thread.",
            "parameters": [_IDENTIFIER],
            "responses": {
                "200": _json("QueryList", "The queries, oldest first."),
                **_ERRORS,
                **_NOT_FOUND,
            },
        }
    },
    "/subjects/{identifier}/signatures": {
        "get": {
            "operationId": "listSignatures",
            "summary": "The investigator signatures of a subject, valid or invalidated.",
            "parameters": [_IDENTIFIER],
            "responses": {
                "200": _json("SignatureList", "The signatures, oldest first."),
                **_ERRORS,
                **_NOT_FOUND,
            },
        }
    },
    "/subjects/{identifier}/verification": {
        "get": {
            "operationId": "getVerification",
            "summary": "The source-data verification of a subject, per form, against the plan.",
            "parameters": [_IDENTIFIER],
            "responses": {
                "200": _json("Verification", "The subject's verification."),
                **_ERRORS,
                **_NOT_FOUND,
            },
        }
    },
}

_JOB_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "description": "The job's id (from POST /exports or GET /jobs).",
    "schema": {"type": "integer", "minimum": 0},
}
_PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
    },
]
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before polling the job again.",
        "schema": {"type": "integer"},
    }
}
#: What a result file may be (OpenAPI 3.1 describes raw bytes by their media type alone).
_FILE_TYPES = ("application/xml", "text/csv", "application/zip", "application/octet-stream")

#: Start an extract, poll its job, download its result.
EXPORT_PATHS: dict[str, Any] = {
    "/exports": {
        "get": {
            "operationId": "listExports",
            "summary": "The extracts this account may start, with the sites each may cover.",
            "responses": {
                "200": _json("ExportList", "The extracts open to the account."),
                "401": _ERRORS["401"],
                "403": {"$ref": "#/components/responses/NoExportRight"},
            },
        },
        "post": {
            "operationId": "startExport",
            "summary": "Start an extract in the background (the API's one write: a job only).",
            "description": "Answers 202 with the job and its address in Location; poll it "
            "until its state is done (or failed), then follow links.download. Refusals "
            "create no job.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("StartExport")}},
            },
            "responses": {
                "202": {
                    "description": "The job, queued (or already running).",
                    "headers": {
                        "Location": {
                            "description": "The job's address (a URL), to poll.",
                            "schema": {"type": "string"},
                        },
                        **_RETRY_AFTER,
                    },
                    "content": {"application/json": {"schema": _ref("Job")}},
                },
                "400": _json(
                    "Error", "The body is not a JSON object, or kind or site is unknown (named)."
                ),
                "401": _ERRORS["401"],
                "403": _json(
                    "Error",
                    "The account may not run this extract at that site (field site), or at "
                    "all (field kind), or holds no export right.",
                ),
                "503": _json(
                    "Error", "The job queue could not be reached; the job was marked failed."
                ),
            },
        },
    },
    "/jobs": {
        "get": {
            "operationId": "listJobs",
            "summary": "One page of this account's jobs, newest first.",
            "parameters": _PAGING,
            "responses": {
                "200": _json("JobPage", "A page of jobs."),
                "400": _ERRORS["400"],
                "401": _ERRORS["401"],
                "403": {"$ref": "#/components/responses/NoExportRight"},
            },
        }
    },
    "/jobs/{job_id}": {
        "get": {
            "operationId": "getJob",
            "summary": "A job: state, progress, result size and SHA-256, expiry, error.",
            "parameters": [_JOB_ID],
            "responses": {
                "200": {
                    "description": "The job; Retry-After while it waits or runs.",
                    "headers": _RETRY_AFTER,
                    "content": {"application/json": {"schema": _ref("Job")}},
                },
                "401": _ERRORS["401"],
                "403": {"$ref": "#/components/responses/NoExportRight"},
                "404": {"$ref": "#/components/responses/NoSuchJob"},
            },
        }
    },
    "/jobs/{job_id}/download": {
        "get": {
            "operationId": "downloadJob",
            "summary": "The job's file (owner only; rights checked again; audited).",
            "parameters": [_JOB_ID],
            "responses": {
                "200": {
                    "description": "The file, as an attachment: XML (ODM), CSV (audit trail) "
                    "or a zip (folders of files, e.g. SDTM). Its SHA-256 is the job's.",
                    "content": {
                        media: {"schema": {"contentMediaType": media}} for media in _FILE_TYPES
                    },
                },
                "401": _ERRORS["401"],
                "403": _json("Error", "The account no longer holds the rights the extract needs."),
                "404": {"$ref": "#/components/responses/NoSuchJob"},
                "409": _json("Error", "Not ready: the job waits, runs, or failed."),
                "410": _json("Error", "Expired (or its file lost): start the extract again."),
            },
        }
    },
}

_DESCRIPTION = """\
Read-only access to the IAH-PRRT trial's data for scripts, and its extracts.

Authenticate with a personal access token created by a user manager on the account's page
(or `ecrf tokens create`): `Authorization: Bearer ecrf_…`. The token acts with its
account's current roles and sites: subjects of other sites answer 404 like missing ones,
accounts that see no clinical data (administrators) get 403, and free-text items are
withheld (`withheld: true`) from readers who do not see the data as entered (the sponsor).
Every read of clinical data is recorded in the audit trail. Lists are paginated
(`page`, `per_page` up to 100) with links.

Extracts (accounts holding the export right): `GET /exports` lists those the account may
start; `POST /exports` with `{"kind": "odm", "site": "BDX"}` (site optional: all the
account's sites) starts one and answers 202 with the job and its address (Location); poll
`GET /jobs/{job_id}` until `state` is `done`, then download `links.download` (409 while not
ready or failed, 410 once expired). Starting an extract creates a job and nothing else.
Errors carry `field` when a parameter or body field is at fault.
"""


def openapi_document(server_url: str) -> dict[str, Any]:
    """The document, with the server this app answers at."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "IAH-PRRT eCRF API", "version": VERSION, "description": _DESCRIPTION},
        "servers": [{"url": server_url}],
        "security": [{"bearerToken": []}],
        "paths": {**copy.deepcopy(PATHS), **copy.deepcopy(EXPORT_PATHS)},
        "components": {
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token, ecrf_ followed by 43 characters.",
                }
            },
            "schemas": copy.deepcopy(SCHEMAS),
            "responses": {
                "BadRequest": _json("Error", "A query parameter is not valid (named)."),
                "Unauthorized": _json("Error", "No token, a malformed header, or a bad token."),
                "Forbidden": _json("Error", "The account sees no clinical data."),
                "NotFound": _json("Error", "No such subject or visit in the token's scope."),
                "NoExportRight": _json("Error", "The account holds no export right."),
                "NoSuchJob": _json("Error", "No such job among this account's jobs."),
            },
        },
    }
