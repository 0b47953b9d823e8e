"""`ecrf export …` and `ecrf import …`: the operator's extracts and data migrations."""

from __future__ import annotations

from flask.cli import AppGroup

export_cli = AppGroup("export", help="Write extracts of the study's data (CSV, CDISC, audit).")
import_cli = AppGroup("import", help="Bring data from another system in through the write path.")

# Commands of each extract, defined in their own modules on the groups above (`export
# audit`, `export csv`, `export odm` and `import odm`, `export sdtm`).
from ecrf.exports import audit_cli, csv_cli, odm_cli  # noqa: E402, F401
from ecrf.exports.sdtm import cli as _sdtm_cli  # noqa: E402, F401
