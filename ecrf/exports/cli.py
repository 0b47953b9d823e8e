"""`ecrf export …` and `ecrf import …`: the operator's extracts and data migrations.

Each extract's commands live in their own module; the groups gather them here.
"""

from __future__ import annotations

from flask.cli import AppGroup

from ecrf.exports.audit_cli import export_audit
from ecrf.exports.csv_cli import export_csv
from ecrf.exports.odm_cli import export_odm, import_odm_command
from ecrf.exports.queries_cli import export_queries
from ecrf.exports.sdtm.cli import export_sdtm

export_cli = AppGroup(
    "export", help="Write extracts of the study's data (CSV, CDISC, audit, queries)."
)
import_cli = AppGroup("import", help="Bring data from another system in through the write path.")

for command in (export_audit, export_csv, export_odm, export_queries, export_sdtm):
    export_cli.add_command(command)
import_cli.add_command(import_odm_command)
