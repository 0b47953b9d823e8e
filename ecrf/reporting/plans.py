"""The report plans of the running study (``forms/reports.py``), or None where it has none."""

from __future__ import annotations

import importlib
from typing import Any

from flask import current_app


def report_plan(name: str) -> Any | None:
    """The plan ``name`` (e.g. "IMAGING") of the study definition's package, or None.

    The definition ``pkg.module:STUDY`` declares its plans in ``pkg.module.reports``.
    """
    module_name = current_app.config["STUDY_DEFINITION"].partition(":")[0]
    try:
        module = importlib.import_module(f"{module_name}.reports")
    except ModuleNotFoundError as error:
        if error.name != f"{module_name}.reports" and not f"{module_name}.reports".startswith(
            f"{error.name}."
        ):
            raise
        return None
    return getattr(module, name, None)
