"""SDTM datasets (CSV, SAS transport v5, Dataset-JSON) with their define document."""

from ecrf.exports.sdtm.service import write_sdtm

__all__ = ["write_sdtm"]
