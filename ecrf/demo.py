"""`ecrf demo`: a ready-to-try system on the configured database, then serve it."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import make_server

from ecrf import transaction
from ecrf.auth import services as auth_services
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.db import utcnow
from ecrf.demo_data import ScenarioFailed, count_subjects, demo_generator
from ecrf.demo_seeding import (
    DEMO_SITES,
    DEMO_USERS,
    SeedingPlan,
    hand_over,
    seed_demo_subjects_now,
)
from ecrf.extensions import db
from ecrf.jobs import services as jobs
from ecrf.jobs.backends import QueueUnavailable, submit
from ecrf.jobs.kinds import DEMO_KIND
from ecrf.jobs.models import Job, JobState
from ecrf.jobs.seeding import INTERRUPTED, latest_seeding
from ecrf.records.sites import get_site
from ecrf.study import services as study_services

#: The demo's random passwords are hashed with this argon2 profile (see seed_demo).
DEMO_HASH_PROFILE = "cheapest"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    scope: str


class NotADemoDatabase(Exception):
    pass


def seed_demo(*, force: bool = False) -> list[DemoAccount]:
    """Create the demo sites and one account per role; (re)set their passwords.

    :raises NotADemoDatabase: the database holds accounts the demo did not make, unless
        ``force`` (the demo would otherwise reset passwords on a real system).
    """
    strangers = sorted(
        user.username for user in db.session.scalars(sa.select(User)) if not _made_by_demo(user)
    )
    if strangers and not force:
        raise NotADemoDatabase(", ".join(strangers[:5]))
    for code, name in DEMO_SITES:
        if get_site(code) is None:
            study_services.add_site(code, name, actor=None)
    accounts = []
    with _hash_profile(DEMO_HASH_PROFILE):
        for username, full_name, role, site_code in DEMO_USERS:
            accounts.append(_demo_account(username, full_name, role, site_code))
    return accounts


@contextmanager
def _hash_profile(profile: str) -> Iterator[None]:
    """Hash the passwords set meanwhile with ``profile``. The demo's passwords are random
    96-bit tokens, new at each run: a slow hash protects guessable passwords and adds
    nothing to these, but would cost about 0.4 s an account before the first page (the
    hash names its parameters, so it verifies under any profile; a password a user
    chooses later gets the configured one)."""
    config = current_app.config
    kept = config["PASSWORD_HASH_PROFILE"]
    config["PASSWORD_HASH_PROFILE"] = profile
    try:
        yield
    finally:
        config["PASSWORD_HASH_PROFILE"] = kept


def _demo_account(username: str, full_name: str, role: Role, site_code: str | None) -> DemoAccount:
    """Create (or reset) one demo account with a new random password."""
    password = secrets.token_urlsafe(12)
    site = get_site(site_code) if site_code else None
    user = auth_services.get_user(username)
    if user is None:
        # Throwaway accounts whose passwords are printed for whoever tries the demo: no
        # forced change, or every first visit would start with a password form.
        user = auth_services.create_user(
            username,
            full_name,
            password,
            role=role,
            site=site,
            actor=None,
            must_change_password=False,
        )
    else:
        auth_services.set_password(user, password, actor=None, must_change_password=False)
        if auth_services.locked_until(username):
            auth_services.unlock(username, actor=None)
    return DemoAccount(username, password, role, site_code or "all sites")


def _made_by_demo(user: User) -> bool:
    """Whether ``user`` looks like the demo's own account, not a real one with a demo name.

    An operator's ``admin`` is not the demo's: resetting its password would lock them out.
    """
    for username, full_name, role, site_code in DEMO_USERS:
        if user.username == username:
            return user.full_name == full_name and any(
                a.role is role and (a.site.code if a.site else None) == site_code
                for a in user.roles
            )
    return False


# --- the command ---------------------------------------------------------------------------


def unfinished_seeding() -> Job | None:
    """The demo seeding a stopped `ecrf demo` left unfinished (waiting, running when its
    process ended, or given up as lost), if any."""
    job = latest_seeding()
    if job is None or job.state is JobState.DONE or job.state is JobState.EXPIRED:
        return None
    if job.state is JobState.FAILED and job.error not in INTERRUPTED:
        return None  # refused by the study's rules: it would fail again
    return job


def queue_seeding(
    count: int, seed: int, passwords: list[tuple[str, str]]
) -> tuple[int | None, str]:
    """Queue the demo seeding as a job (not committed); return its id (None: nothing to
    seed) and the line to print. An unfinished seeding is queued again: it resumes after
    its last committed step, with the count, seed and day it started with."""
    job = unfinished_seeding()
    if job is not None and _alive_on_a_worker(job):
        return None, STILL_RUNNING.format(job=job.id)
    if job is not None:
        plan = SeedingPlan.from_params(job.params or {})
        plan = SeedingPlan(plan.count, plan.seed, plan.today, hand_over(passwords))
        job.params = plan.params()
        job.state, job.error = JobState.QUEUED, None
        job.started_at = job.finished_at = None
        job.heartbeat_at = utcnow()
        db.session.flush()
        return job.id, RESUMING.format(done=job.progress_done, total=plan.steps, count=plan.count)
    if count <= 0:
        return None, "No demo subjects requested."
    existing = count_subjects()
    if existing:
        return None, f"Demo subjects: the database already has {existing}; none added."
    if demo_generator() is None:
        return None, "No demo subjects: this study definition ships no demo data generator."
    plan = SeedingPlan(count, seed, utcnow().date(), hand_over(passwords))
    job = Job(kind=DEMO_KIND, user_id=None, params=plan.params(), progress_total=plan.steps)
    db.session.add(job)
    db.session.flush()
    return job.id, QUEUED.format(count=count)


def _alive_on_a_worker(job: Job) -> bool:
    """Whether ``job`` runs on an RQ worker still (its heartbeat is fresh): only this
    process's own threads die with it."""
    config = current_app.config
    if not config.get("REDIS_URL") or job.state is not JobState.RUNNING:
        return False
    fresh = utcnow() - timedelta(minutes=float(config["JOB_STALE_MINUTES"]))
    return job.heartbeat_at is not None and job.heartbeat_at >= fresh


STOPPED = "Stopped; the demo seeding is unfinished: `ecrf demo` resumes it."
STILL_RUNNING = "The demo seeding (job #{job}) is still running on a worker: it goes on."
QUEUED = (
    "Seeding {count} demo patients in the background: sign in now; the home page shows"
    " how far it got, and the data appears as it is entered."
)
RESUMING = (
    "Resuming the unfinished demo seeding ({count} patients) after step {done} of {total}:"
    " what it entered stays."
)


def _signers(accounts: list[DemoAccount]) -> list[tuple[str, str]]:
    """The passwords the signing phase needs: the investigators' only."""
    return [(a.username, a.password) for a in accounts if a.role is Role.INVESTIGATOR]


@click.command("demo")
@click.option(
    "--subjects",
    default=40,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Synthetic subjects to seed at the demo sites, at every stage of the trial"
    " (none if the database already has subjects).",
)
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Random seed of the demo data."
)
@click.option(
    "--no-serve",
    is_flag=True,
    help="Prepare the database (seeding in this command) and exit.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--force",
    is_flag=True,
    help="Run even if the database holds non-demo accounts (resets demo passwords).",
)
@with_appcontext
def demo_command(subjects, seed, no_serve, host, port, force):
    """Upgrade the database, create demo sites and users, print them, and serve the app
    at once while the demo patients are seeded in the background (--no-serve: seed them,
    then exit)."""
    upgrade()
    try:
        accounts = transaction.perform(lambda: seed_demo(force=force))
    except NotADemoDatabase as exc:
        raise click.ClickException(
            f"This database has accounts the demo did not create ({exc}); "
            "use a fresh database, or --force."
        ) from None
    click.echo(f"\nDatabase: {db.engine.url.render_as_string(hide_password=True)}")
    click.echo("Demo accounts (passwords are new at each run):\n")
    click.echo(f"  {'username':<18} {'password':<18} {'role':<14} scope")
    for account in accounts:
        role = account.role.label
        click.echo(f"  {account.username:<18} {account.password:<18} {role:<14} {account.scope}")
    click.echo("")
    if no_serve and unfinished_seeding() is None:
        try:
            click.echo(seed_demo_subjects_now(subjects, seed, _signers(accounts)))
        except ScenarioFailed as exc:
            raise click.ClickException(f"Demo subjects could not be seeded: {exc}") from None
        return
    job_id, line = transaction.perform(lambda: queue_seeding(subjects, seed, _signers(accounts)))
    click.echo(line)
    if no_serve:  # an unfinished seeding: finish it here
        if job_id is not None:
            _run_here(job_id)
        return
    # The port is bound first: a browser opened at once waits for its page, not for a
    # refused connection. Not app.run(): Flask ignores it inside a CLI command.
    server = make_server(host, port, current_app._get_current_object(), threaded=True)
    if job_id is not None:
        try:
            submit(job_id)
        except QueueUnavailable:
            jobs.mark_not_submitted(job_id)
            click.echo(jobs.QUEUE_DOWN, err=True)
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    server.serve_forever()  # until Ctrl+C
    if unfinished_seeding() is not None:
        # The pool's thread would hold the exit until the seeding ends; what it committed
        # stays, and the next `ecrf demo` resumes after it.
        click.echo(STOPPED)
        sys.stdout.flush()
        os._exit(0)


def _run_here(job_id: int) -> None:
    """Run the queued seeding in this command; print its lines, or fail with its error."""
    jobs.run_job(job_id)
    job = db.session.get(Job, job_id, populate_existing=True)
    if job.state is not JobState.DONE:
        raise click.ClickException(job.error or jobs.UNEXPECTED)
    click.echo((jobs.export_dir() / job.result_path).read_text(encoding="utf-8").rstrip())
