"""`ecrf export …` and `ecrf import …`: the operator's extracts and data migrations."""

from __future__ import annotations

from flask.cli import AppGroup

export_cli = AppGroup("export", help="Write extracts of the study's data (CSV, CDISC, audit).")
import_cli = AppGroup("import", help="Bring data from another system in through the write path.")

from ecrf.exports import odm_cli  # noqa: E402,F401  (registers `export odm` and `import odm`)
