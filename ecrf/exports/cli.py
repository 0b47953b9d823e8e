"""`ecrf export …` and `ecrf import …`: the operator's extracts and data migrations."""

from __future__ import annotations

from flask.cli import AppGroup

export_cli = AppGroup("export", help="Write extracts of the study's data (CSV, CDISC, audit).")
import_cli = AppGroup("import", help="Bring data from another system in through the write path.")

# Each extract defines its commands on the groups above, in a module of its own.
from ecrf.exports import csv_cli  # noqa: E402, F401
