"""A background job and its result file: the one record pages read, whatever runs the job."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ecrf.db import Base, utcnow
from ecrf.records.models import str_enum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return JOB_STATE_LABELS[self]

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


JOB_STATE_LABELS = {
    JobState.QUEUED: "Waiting to start",
    JobState.RUNNING: "Running",
    JobState.DONE: "Ready",
    JobState.FAILED: "Failed",
    JobState.EXPIRED: "Expired",
}


class Job(Base):
    """One extract asked for by a user (or the operator), from its request to its expiry.

    Backends only carry the id; every state, the progress and the result live here, so the
    jobs page reads the same thing whether a thread or a worker on another host ran it.
    """

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who asked; only they may download the result. None: the command-line operator.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: The registered kind's name (ecrf/jobs/kinds.py), e.g. "audit", "csv".
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: Site codes the extract covers, comma-separated; None: every site.
    site_codes: Mapped[str | None] = mapped_column(sa.String(500))
    #: The subject a per-subject job is about (a casebook); its site is ``site_codes``.
    subject: Mapped[str | None] = mapped_column(sa.String(20))
    state: Mapped[JobState] = mapped_column(str_enum(JobState), default=JobState.QUEUED, index=True)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    #: What a kind that ``takes_params`` runs with (the demo seeding: count, seed, day).
    params: Mapped[dict | None] = mapped_column(sa.JSON)
    #: The result file, relative to ECRF_EXPORT_DIR.
    result_path: Mapped[str | None] = mapped_column(sa.String(500))
    result_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    result_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    #: Why it failed, in words for the user (details go to the log).
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: When the result file is deleted (set when the job is done).
    expires_at: Mapped[datetime | None]
    #: Last sign of life of the running job (start, each progress report): a job silent
    #: for longer than ECRF_JOB_STALE_MINUTES lost its worker and is marked failed.
    heartbeat_at: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_job_user_created", "user_id", "created_at"),)

    @property
    def scope(self) -> list[str] | None:
        """The site codes covered, or None for every site."""
        return self.site_codes.split(",") if self.site_codes else None

    @property
    def percent(self) -> int:
        if self.state is JobState.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"
