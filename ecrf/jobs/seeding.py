"""The demo seeding's progress (the job `ecrf demo` starts), as the pages show it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ecrf.extensions import db
from ecrf.jobs.kinds import DEMO_KIND
from ecrf.jobs.models import Job, JobState
from ecrf.jobs.services import NEVER_STARTED, QUEUE_DOWN, STALE

#: A seeding that failed for one of these reasons was interrupted, not refused by the
#: rules: `ecrf demo` resumes it.
INTERRUPTED = (STALE, NEVER_STARTED, QUEUE_DOWN)


@dataclass(frozen=True)
class SeedingProgress:
    """How far the demo seeding got: its patients first, then the monitoring phases."""

    patients: int
    #: Steps committed: one per patient, then one per monitoring phase.
    done: int
    total: int
    #: Why it stopped, when it did (None while it waits or runs).
    error: str | None = None

    @property
    def resumable(self) -> bool:
        """Stopped with its process, not refused: restarting `ecrf demo` resumes it."""
        return self.error in INTERRUPTED

    @property
    def patients_done(self) -> int:
        return min(self.done, self.patients)

    @property
    def phases(self) -> int:
        return self.total - self.patients

    @property
    def phases_done(self) -> int:
        return max(0, self.done - self.patients)

    @property
    def percent(self) -> int:
        return self.done * 100 // self.total if self.total else 0


def latest_seeding() -> Job | None:
    return db.session.scalar(
        sa.select(Job).where(Job.kind == DEMO_KIND).order_by(Job.id.desc()).limit(1)
    )


def seeding_progress() -> SeedingProgress | None:
    """The unfinished demo seeding's progress; None when there is none (not a demo, or
    its seeding is done)."""
    job = latest_seeding()
    if job is None or job.state in (JobState.DONE, JobState.EXPIRED):
        return None
    patients = int((job.params or {}).get("count", 0))
    total = max(job.progress_total, patients)
    error = job.error if job.state is JobState.FAILED else None
    return SeedingProgress(patients, job.progress_done, total, error)
