"""The /api/v1 endpoints: authenticate the token, parse the query, call one read as the
request's transaction (committed: it records the token's time of use).

Read-only but for one write: POST /exports starts an extract, which creates a job (and
never changes clinical data); its job is polled and its file downloaded with GETs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, send_file, url_for

from ecrf import transaction
from ecrf.api import exports, monitoring_reads, reads
from ecrf.api.errors import BAD_TOKEN, MALFORMED, NO_TOKEN
from ecrf.api.openapi import openapi_document
from ecrf.api.tokens import user_for_token
from ecrf.auth.models import User
from ecrf.errors import DomainError, json_error
from ecrf.extensions import csrf, db
from ecrf.jobs.backends import QueueUnavailable, submit
from ecrf.records.loader import current_study

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Tokens, not cookies, authenticate here: there is no browser form to forge.
csrf.exempt(bp)

#: Endpoints anyone may read without a token (they hold no data).
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


@bp.before_request
def authenticate() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization")
    if header is None:
        return json_error(401, "Not signed in", NO_TOKEN)
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip() or " " in value.strip():
        return json_error(401, "Not signed in", MALFORMED)
    user = user_for_token(value.strip())
    if user is None:  # nothing is kept: the request's session ends without a commit
        return json_error(401, "Not signed in", BAD_TOKEN)
    g.api_user = user
    return None


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError) -> Response:
    """A refusal, in JSON, naming the field at fault when there is one."""
    db.session.rollback()
    return json_error(exc.status, exc.title, exc.message, field=exc.field)


@bp.after_request
def no_store(response: Response) -> Response:
    # Clinical data must not linger in shared caches or proxies.
    response.headers["Cache-Control"] = "no-store"
    return response


def reader() -> User:
    return g.api_user


def _link(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi_document(_link("api.me").rsplit("/", 1)[0]))


@bp.get("/me")
def me():
    """Who the token acts as: roles and visible sites."""
    described = transaction.perform(lambda: reads.describe_reader(reader()))
    return jsonify(described)


@bp.get("/subjects")
def list_subjects():
    """One page of the subjects in the token's scope, filtered by site and status."""
    page, per_page = reads.parse_paging(request.args.get("page"), request.args.get("per_page"))
    status = reads.parse_status(request.args.get("status"))
    site = reads.parse_site(request.args.get("site"))
    result = transaction.perform(
        lambda: reads.list_subjects(
            reader(), site_code=site, status=status, page=page, per_page=per_page
        )
    )
    for item in result.items:
        item["links"] = {"self": _link("api.get_subject", identifier=item["identifier"])}
    filters = {k: v for k, v in {"site": site, "status": request.args.get("status")}.items() if v}

    def page_link(number: int) -> str:
        return _link("api.list_subjects", page=number, per_page=per_page, **filters)

    return _page(result, page_link)


def _page(result: reads.Page, page_link: Callable[[int], str]) -> Response:
    """A page of items with its counts and the links to its neighbours."""
    page = result.page
    links = {"self": page_link(page), "first": page_link(1), "last": page_link(result.pages)}
    links["prev"] = page_link(page - 1) if page > 1 else None
    links["next"] = page_link(page + 1) if page < result.pages else None
    return jsonify(
        items=result.items,
        page=page,
        per_page=result.per_page,
        total=result.total,
        pages=result.pages,
        links=links,
    )


@bp.get("/subjects/<identifier>")
def get_subject(identifier: str):
    """A subject with its visits and their forms."""
    study = current_study()
    subject = transaction.perform(lambda: reads.get_subject(study, reader(), identifier))
    subject["links"] = {
        "self": _link("api.get_subject", identifier=subject["identifier"]),
        "findings": _link("api.list_findings", identifier=subject["identifier"]),
        "queries": _link("api.list_queries", identifier=subject["identifier"]),
        "signatures": _link("api.list_signatures", identifier=subject["identifier"]),
        "verification": _link("api.get_verification", identifier=subject["identifier"]),
    }
    for visit in subject["visits"]:
        visit["links"] = {
            "self": _link(
                "api.get_visit",
                identifier=subject["identifier"],
                visit_oid=visit["visit_oid"],
                repeat_key=visit["repeat_key"],
            )
        }
    return jsonify(subject)


@bp.get("/subjects/<identifier>/visits/<visit_oid>/<int:repeat_key>")
def get_visit(identifier: str, visit_oid: str, repeat_key: int):
    """A visit's forms with their values."""
    study = current_study()
    visit = transaction.perform(
        lambda: reads.get_visit(study, reader(), identifier, visit_oid, repeat_key)
    )
    return jsonify(visit)


@bp.get("/subjects/<identifier>/findings")
def list_findings(identifier: str):
    """The edit-check findings of a subject, optionally only open or resolved ones."""
    status = reads.parse_finding_status(request.args.get("status"))
    findings = transaction.perform(lambda: reads.list_findings(reader(), identifier, status=status))
    return jsonify(items=findings, total=len(findings))


@bp.get("/subjects/<identifier>/queries")
def list_queries(identifier: str):
    """The queries of a subject, each with its thread."""
    queries = transaction.perform(lambda: reads.list_queries(reader(), identifier))
    return jsonify(items=queries, total=len(queries))


@bp.get("/subjects/<identifier>/signatures")
def list_signatures(identifier: str):
    """The investigator signatures of a subject, valid or invalidated."""
    study = current_study()
    found = transaction.perform(
        lambda: monitoring_reads.list_signatures(study, reader(), identifier)
    )
    return jsonify(items=found, total=len(found))


@bp.get("/subjects/<identifier>/verification")
def get_verification(identifier: str):
    """The source-data verification of a subject, per form, against the plan."""
    study = current_study()
    return jsonify(
        transaction.perform(lambda: monitoring_reads.get_verification(study, reader(), identifier))
    )


# --- extracts: start one, poll its job, download its file -------------------------------

#: Seconds a script should wait between polls of a job that is not finished.
POLL_SECONDS = 2


def _job_json(job: dict) -> dict:
    links = {"self": _link("api.get_job", job_id=job["id"])}
    links["download"] = (
        _link("api.download_job", job_id=job["id"]) if job["state"] == "done" else None
    )
    return {**job, "links": links}


@bp.get("/exports")
def list_exports():
    """The extracts the token's account may start, with the sites each may cover."""
    kinds = transaction.perform(lambda: exports.list_kinds(reader()))
    return jsonify(items=kinds, links={"jobs": _link("api.list_jobs")})


@bp.post("/exports")
def start_export():
    """Start an extract: 202 with its job and a Location to poll (the API's one write)."""
    kind, site = exports.parse_start(request.get_json(force=True, silent=True))
    job = transaction.perform(lambda: exports.start_export(reader(), kind, site))
    try:
        submit(job.id)
    except QueueUnavailable:
        raise exports.not_submitted(job.id) from None
    body = _job_json(exports.describe_job(job))
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = body["links"]["self"]
    response.headers["Retry-After"] = str(POLL_SECONDS)
    return response


@bp.get("/jobs")
def list_jobs():
    """One page of the token's account's jobs, newest first."""
    page, per_page = reads.parse_paging(request.args.get("page"), request.args.get("per_page"))
    result = transaction.perform(lambda: exports.list_jobs(reader(), page=page, per_page=per_page))
    result = replace(result, items=[_job_json(job) for job in result.items])
    return _page(result, lambda n: _link("api.list_jobs", page=n, per_page=per_page))


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int):
    """A job: state, progress, result size and SHA-256, expiry, error, links."""
    job = transaction.perform(lambda: exports.get_job(reader(), job_id))
    response = jsonify(_job_json(job))
    if job["state"] in ("queued", "running"):
        response.headers["Retry-After"] = str(POLL_SECONDS)
    return response


@bp.get("/jobs/<int:job_id>/download")
def download_job(job_id: int):
    """The job's file: owner only, rights checked again, the download audited."""
    result = transaction.perform(lambda: exports.open_download(reader(), job_id))
    return send_file(result.path, as_attachment=True, download_name=result.name)
