"""A trial database seeded with synthetic IAH-PRRT patients at every stage, shared by the
extract and report tests of a module.

Seeding goes through the write path and takes seconds, so each test process seeds once
(``seeded_copy``: the first call seeds a database and freezes it as a template) and every
module gets its own copy of it, with its own audit checkpoint file: the same patients, and
a module's writes never reach another's.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from ecrf import create_app
from ecrf.demo import seed_demo
from ecrf.demo_data import seed_subjects
from ecrf.demo_seeding import DEMO_SITES, demo_actor, demo_decider
from ecrf.extensions import db
from ecrf.records.loader import current_study

#: Patients seeded per module: enough for every stage (screen failures, PET pairs, AEs,
#: follow-up) at all three demo sites; the same seed gives the same patients.
SUBJECTS, SEED = 8, 11


@dataclass
class Seeded:
    app: Flask
    url: str
    sites: tuple[str, ...]
    #: The demo accounts' passwords by username ("sponsor", "datamanager", "staff.bdx"…).
    passwords: dict[str, str]


def checkpoint_file(databases, url: str) -> Path:
    return databases.workdir / f"audit_checkpoints_{url.rsplit('/', 1)[-1]}"


def trial_app(databases, url: str | None = None, **config) -> Flask:
    url = url or databases.new_database()
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test secret key",
            "AUDIT_KEY": "test audit key",
            "AUDIT_CHECKPOINT_FILE": str(checkpoint_file(databases, url)),
            "EXPORT_DIR": str(databases.workdir / f"exports_{url.rsplit('/', 1)[-1]}"),
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_PROFILE": "cheapest",
            "STUDY_DEFINITION": "forms.iahprrt:STUDY",
            "WTF_CSRF_ENABLED": False,
            "STRICT_RULES": True,
            **config,
        }
    )


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def seed(app: Flask, count: int = SUBJECTS, seed_value: int = SEED) -> dict[str, str]:
    """Demo sites, accounts and ``count`` patients; the accounts' passwords by username."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        passwords = {account.username: account.password for account in seed_demo()}
        db.session.commit()
        seed_subjects(
            current_study(),
            count,
            seed_value,
            [code for code, _ in DEMO_SITES],
            actor_for=demo_actor,
            decider_for=demo_decider,
        )
    return passwords


#: The seeded template of this test process: (its name, the accounts' passwords).
_TEMPLATE: dict[int, tuple[str, str, dict[str, str]]] = {}


def seeded_copy(databases, **config) -> tuple[Flask, dict[str, str]]:
    """An app on a copy of the seeded trial (demo sites, accounts, SUBJECTS patients) and
    the accounts' passwords; the first call of the process seeds the template."""
    key = id(databases)
    if key not in _TEMPLATE:
        app = trial_app(databases)
        passwords = seed(app)
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        dispose(app)
        _TEMPLATE[key] = (databases.freeze(url), url, passwords)
    name, template_url, passwords = _TEMPLATE[key]
    url = databases.new_database(name)
    checkpoints = checkpoint_file(databases, template_url)
    if checkpoints.exists():
        shutil.copyfile(checkpoints, checkpoint_file(databases, url))
    return trial_app(databases, url, **config), dict(passwords)


def seeded_trial(databases) -> Iterator[Seeded]:
    """A copy of the seeded trial (the ``seeded`` fixture of tests/conftest.py: one per
    test module)."""
    app, passwords = seeded_copy(databases)
    yield Seeded(
        app, app.config["SQLALCHEMY_DATABASE_URI"], tuple(c for c, _ in DEMO_SITES), passwords
    )
    dispose(app)


def process_env(app: Flask, url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of an `ecrf` process (a command, a worker) given ``app``'s settings, as
    another host would be given them: the test run's own ECRF_* variables left out."""
    config = app.config
    env = {name: value for name, value in os.environ.items() if not name.startswith("ECRF_")}
    env.update(
        ECRF_DATABASE_URL=url,
        ECRF_SECRET_KEY=config["SECRET_KEY"],
        ECRF_AUDIT_KEY=config["AUDIT_KEY"],
        ECRF_AUDIT_CHECKPOINT_FILE=config["AUDIT_CHECKPOINT_FILE"],
        ECRF_STUDY_DEFINITION=config["STUDY_DEFINITION"],
        ECRF_STRICT_RULES=json.dumps(bool(config.get("STRICT_RULES"))),
        ECRF_INSTANCE_PATH=str(instance),
        **extra,
    )
    return env
