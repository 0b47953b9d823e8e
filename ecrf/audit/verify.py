"""`ecrf audit verify` as a service: the chain against the key and the checkpoints, then the
stored data against the trail, both ways, in one streamed pass over the events."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ecrf.audit.chain import ChainSummary, Problems, walk_chain
from ecrf.audit.checkpoints import BadLine, Checkpoint, checkpoint_path, read_checkpoints
from ecrf.audit.reconcile import Reconciler, dispatcher
from ecrf.audit.services import audit_key


@dataclass
class Verification:
    chain: ChainSummary
    checkpoints: int
    problems: Problems
    seconds: float

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_trail(reconcilers: list[Reconciler], limit: int = 20) -> Verification:
    """Check the chain, then the data through ``reconcilers`` (each package that keeps audited
    data brings its own: ``ecrf.integrity`` gathers them); every problem is counted, the
    first ``limit`` are kept to show."""
    started = time.perf_counter()
    key = audit_key()
    problems = Problems(limit)
    checkpoints: list[Checkpoint] = []
    bad_lines: list[BadLine] = []
    path = checkpoint_path()
    file_missing = not path.exists()
    if not file_missing:
        for line in read_checkpoints(key, path):
            (bad_lines if isinstance(line, BadLine) else checkpoints).append(line)
    chain = walk_chain(problems, key=key, checkpoints=checkpoints, on_event=dispatcher(reconcilers))
    if chain.key_matches:  # under a wrong key every line would look forged: say only that
        for line in bad_lines:
            problems.add(line)
        if file_missing and chain.events:
            problems.add(
                f"there is no checkpoint file at {path}: a deleted tail of the trail could not "
                "be seen (restore the file, or run `ecrf audit checkpoint` to start one)"
            )
        for reconciler in reconcilers:
            reconciler.compare(problems)
    return Verification(chain, len(checkpoints), problems, time.perf_counter() - started)
