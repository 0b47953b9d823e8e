"""A seeded trial for the jobs tests: its own export folder, a site-scoped data manager,
and sign-in and polling helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from ecrf.auth import services as auth_services
from ecrf.auth.roles import Role
from ecrf.extensions import db
from ecrf.jobs.models import Job
from ecrf.records.sites import get_site
from tests.seeded_trial import dispose, seeded_copy

#: A data manager of BDX only (the demo's data manager holds every site).
BDX_MANAGER, BDX_MANAGER_PASSWORD = "dm.bdx", "a long password for dm bdx"


@dataclass
class JobsTrial:
    app: Flask
    url: str
    export_dir: Path
    passwords: dict[str, str]

    def client(self, username: str):
        client = self.app.test_client()
        response = client.post(
            "/login", data={"username": username, "password": self.passwords[username]}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def job(self, job_id: int) -> Job:
        with self.app.app_context():
            job = db.session.get(Job, job_id)
            db.session.expunge(job)
            return job

    def wait_for(self, job_id: int, done: Callable[[Job], bool], seconds: float = 60) -> Job:
        deadline = time.monotonic() + seconds
        while True:
            job = self.job(job_id)
            if done(job) or time.monotonic() > deadline:
                return job
            time.sleep(0.05)


def jobs_trial(databases, tmp_path: Path, **config) -> JobsTrial:
    export_dir = tmp_path / "exports"
    app, passwords = seeded_copy(databases, EXPORT_DIR=str(export_dir), **config)
    with app.app_context():
        auth_services.create_user(
            BDX_MANAGER,
            "Data Manager BDX",
            BDX_MANAGER_PASSWORD,
            actor=None,
            role=Role.DATA_MANAGER,
            site=get_site("BDX"),
            must_change_password=False,
        )
        db.session.commit()
    passwords[BDX_MANAGER] = BDX_MANAGER_PASSWORD
    return JobsTrial(app, app.config["SQLALCHEMY_DATABASE_URI"], export_dir, passwords)


__all__ = ["BDX_MANAGER", "JobsTrial", "dispose", "jobs_trial"]
