"""`ecrf demo`: a ready-to-try system on the configured database, then serve it."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from ecrf import transaction
from ecrf.audit.checkpoints import write_checkpoint
from ecrf.auth import services as auth_services
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.demo_data import ScenarioFailed, count_subjects, demo_generator, seed_subjects
from ecrf.extensions import db
from ecrf.locks.demo import seed_demo_locks
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import current_study
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Site, Subject, SubjectVisit
from ecrf.records.sites import get_site
from ecrf.review.demo import seed_demo_review
from ecrf.sdv.demo import seed_demo_verification
from ecrf.signatures.demo import seed_demo_signatures
from ecrf.study import services as study_services

DEMO_SITES = [
    ("BDX", "CHU de Bordeaux (University Hospital Bordeaux)"),
    ("TLS", "CHU de Toulouse (demo site)"),
    ("NTE", "CHU de Nantes (demo site)"),
]
DEMO_USERS = [
    ("staff.bdx", "Camille Martin", Role.SITE_STAFF, "BDX"),
    ("investigator.bdx", "Dr Louise Dupont", Role.INVESTIGATOR, "BDX"),
    ("staff.tls", "Inès Moreau", Role.SITE_STAFF, "TLS"),
    ("monitor", "Hugo Bernard", Role.MONITOR, None),
    ("datamanager", "Chloé Petit", Role.DATA_MANAGER, None),
    ("sponsor", "Sponsor Reader", Role.SPONSOR, None),
    ("admin", "System Administrator", Role.ADMIN, None),
]


#: The demo monitor's own queries, so that a newcomer meets each state beside the automatic
#: ones (opened and closed by the edit checks): closed after the site's answer, answered,
#: open. (site, visit, form, item, question, the site's answer, the monitor's closing note)
DEMO_QUERIES = [
    (
        "BDX",
        "SCR",
        "VS",
        "WEIGHT",
        "The referral letter gives another weight: please check the source.",
        "Checked on the nurse's sheet of the visit: the letter was older.",
        "Seen on the source at the monitoring visit.",
    ),
    (
        "TLS",
        "SCR",
        "DM",
        "BRTHYM",
        "Please confirm the month of birth against the identity card.",
        "Confirmed on the identity card.",
        None,
    ),
    (
        "BDX",
        "PETIV",
        "PETIV",
        "PETDAT",
        "The PET report is dated another day: which is right?",
        None,
        None,
    ),
]


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
    for username, full_name, role, site_code in DEMO_USERS:
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
        accounts.append(DemoAccount(username, password, role, site_code or "all sites"))
    return accounts


def demo_actor(site_code: str) -> User | None:
    """Who enters a demo site's data: its site staff account (None where it has none: the
    command-line operator)."""
    for username, _, role, code in DEMO_USERS:
        if code == site_code and role is Role.SITE_STAFF:
            return auth_services.get_user(username)
    return None


def demo_decider(site_code: str) -> User | None:
    """Who records a demo site's investigator decisions (inclusion, screen failure,
    withdrawal): its investigator account (None where it has none: the command-line
    operator)."""
    for username, _, role, code in DEMO_USERS:
        if code == site_code and role is Role.INVESTIGATOR:
            return auth_services.get_user(username)
    return None


def seed_demo_subjects(count: int, seed: int) -> str:
    """Seed ``count`` synthetic patients at the demo sites; return the line to print.

    Nothing is added to a database that already has subjects (a second run of the demo).
    """
    if count <= 0:
        return "No demo subjects requested."
    existing = count_subjects()
    if existing:
        return f"Demo subjects: the database already has {existing}; none added."
    generator = demo_generator()
    if generator is None:
        return "No demo subjects: this study definition ships no demo data generator."
    progress = None
    if sys.stderr.isatty():

        def progress(done: int) -> None:
            click.echo(f"\rSeeding demo subjects: {done}/{count}", err=True, nl=done == count)

    report = seed_subjects(
        current_study(),
        count,
        seed,
        [code for code, _ in DEMO_SITES],
        actor_for=demo_actor,
        decider_for=demo_decider,
        generator=generator,
        progress=progress,
    )
    raised = transaction.perform(seed_demo_queries)
    verified = transaction.perform(lambda: seed_demo_verification(save_form))
    reviewed = transaction.perform(seed_demo_review)
    # Last: the locks refuse later writes to what they hold.
    locked = transaction.perform(lambda: seed_demo_locks(current_study()))
    return "\n".join(
        (report.summary(), DEMO_QUERIES_RAISED.format(count=raised), verified, reviewed, locked)
    )


DEMO_QUERIES_RAISED = "The demo monitor raised {count} queries of its own."


def seed_demo_queries() -> int:
    """The demo monitor's queries (``DEMO_QUERIES``) on the first subject of each site with
    that item filled, answered by the site's staff and closed as listed; returns how many
    (fewer when too few subjects were seeded to have the data)."""
    study = current_study()
    monitor = auth_services.get_user("monitor")
    raised = 0
    for site_code, visit, form, item, question, answer, note in DEMO_QUERIES:
        subject = _first_with(site_code, visit, form, item)
        if subject is None:
            continue
        target = QueryTarget(visit, 1, form, item_oid=item)
        query = queries.open_query(study, subject, target, question, actor=monitor)
        if answer is not None:
            queries.answer_query(query, answer, actor=demo_actor(site_code))
        if note is not None:
            queries.close_query(query, note, actor=monitor)
        raised += 1
    return raised


def _first_with(site_code: str, visit: str, form: str, item: str) -> Subject | None:
    return db.session.scalar(
        sa.select(Subject)
        .join(Site, Subject.site_id == Site.id)
        .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .join(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .where(
            Site.code == site_code,
            SubjectVisit.visit_oid == visit,
            SubjectVisit.repeat_key == 1,
            FormEntry.form_oid == form,
            ItemValue.item_oid == item,
            ItemValue.value_text.is_not(None),
        )
        .order_by(Subject.number)
        .limit(1)
    )


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
@click.option("--no-serve", is_flag=True, help="Prepare the database and exit.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--force",
    is_flag=True,
    help="Run even if the database holds non-demo accounts (resets demo passwords).",
)
@with_appcontext
def demo_command(subjects, seed, no_serve, host, port, force):
    """Upgrade the database, create demo sites and users, print them, and serve the app."""
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
    demo_passwords = [(a.username, a.password) for a in accounts]
    try:
        click.echo(seed_demo_subjects(subjects, seed))
        click.echo(transaction.perform(lambda: seed_demo_signatures(demo_passwords, save_form)))
    except ScenarioFailed as exc:
        raise click.ClickException(f"Demo subjects could not be seeded: {exc}") from None
    # The seeding appended thousands of events in minutes: checkpoint the head it reached.
    checkpoint = write_checkpoint()
    click.echo(f"Audit checkpoint: event #{checkpoint.seq}.")
    if no_serve:
        return
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    # Not app.run(): Flask ignores it inside a CLI command (FLASK_RUN_FROM_CLI).
    run_simple(host, port, current_app._get_current_object(), threaded=True)
