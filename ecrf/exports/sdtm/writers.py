"""The three forms of each dataset: CSV (written as the records stream in), then SAS
transport v5 and CDISC Dataset-JSON v1.1 made from that CSV, and the define document.

Character values are written in ASCII (what SAS transport v5 can hold, and what
regulators ask of submission datasets): accents are dropped and symbols spelled out, the
same text in all three forms. Values are cut at 200 characters (the XPT v5 limit).
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ecrf.exports.sdtm.metadata import NUM, Dataset

MAX_LENGTH = 200
DATASET_JSON_VERSION = "1.1.0"
#: Symbols the study's texts use, spelled in ASCII.
_SYMBOLS = str.maketrans(
    {
        "≥": ">=",
        "≤": "<=",
        "–": "-",
        "—": "-",
        "×": "x",
        "µ": "u",
        "β": "beta",
        "°": " deg",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "³": "3",
        "²": "2",
        "…": "...",
    }
)
#: Numeric variables that only hold whole numbers (Dataset-JSON "integer").
_INTEGER_SUFFIXES = ("SEQ", "DY", "VISITNUM", "AGE", "LLTCD")


def ascii_text(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.translate(_SYMBOLS))
    # SAS pads character values with blanks: a value cut before a space would not read
    # back equal from the transport file.
    return decomposed.encode("ascii", "ignore").decode("ascii")[:MAX_LENGTH].rstrip()


def is_integer(dataset: Dataset, name: str) -> bool:
    return dataset.variable(name).type == NUM and name.endswith(_INTEGER_SUFFIXES)


@dataclass
class Written:
    """A dataset written to CSV: where, how many records, each variable's longest value."""

    dataset: Dataset
    path: Path
    records: int = 0
    lengths: dict[str, int] = field(default_factory=dict)
    #: The values met in each variable with a code list (for the define's code lists).
    values: dict[str, set[str]] = field(default_factory=dict)


class CsvDataset:
    """Writes one dataset's records as they come, keeping count and character lengths."""

    def __init__(self, dataset: Dataset, path: Path) -> None:
        self.written = Written(
            dataset,
            path,
            lengths={name: 1 for name in dataset.names},
            values={v.name: set() for v in dataset.variables if v.codelist},
        )
        self._file = path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        self._csv.writerow(dataset.names)

    def write(self, record: dict) -> None:
        values = []
        for name in self.written.dataset.names:
            raw = record.get(name)
            text = "" if raw is None else ascii_text(str(raw))
            values.append(text)
            if len(text) > self.written.lengths[name]:
                self.written.lengths[name] = len(text)
            if text and name in self.written.values:
                self.written.values[name].add(text)
        self._csv.writerow(values)
        self.written.records += 1

    def close(self) -> Written:
        self._file.close()
        return self.written


def read_csv(written: Written) -> Iterable[list[str]]:
    with written.path.open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        next(reader)
        yield from reader


def write_xpt(written: Written, path: Path) -> Path:
    """SAS transport v5 (pyreadstat): one domain is held as a data frame while written."""
    import pandas as pd
    import pyreadstat

    dataset = written.dataset
    frame = pd.read_csv(written.path, dtype=str, keep_default_na=False)
    for variable in dataset.variables:
        if variable.type == NUM:
            frame[variable.name] = pd.to_numeric(frame[variable.name], errors="coerce").astype(
                "float64"
            )
    pyreadstat.write_xport(
        frame,
        str(path),
        file_label=dataset.label,
        column_labels=[v.label for v in dataset.variables],
        table_name=dataset.name,
        file_format_version=5,
    )
    return path


def _json_value(written: Written, name: str, text: str):
    dataset = written.dataset
    if dataset.variable(name).type != NUM:
        return text
    if text == "":
        return None
    return int(text) if is_integer(dataset, name) else float(text)


def write_dataset_json(
    written: Written, path: Path, *, study_oid: str, version: str, created: datetime
) -> Path:
    """CDISC Dataset-JSON v1.1, rows streamed from the CSV."""
    dataset = written.dataset
    columns = []
    for variable in dataset.variables:
        column = {
            "itemOID": f"IT.{dataset.name}.{variable.name}",
            "name": variable.name,
            "label": variable.label,
            "dataType": (
                "string"
                if variable.type != NUM
                else ("integer" if is_integer(dataset, variable.name) else "double")
            ),
        }
        if variable.type != NUM:
            column["length"] = written.lengths[variable.name]
        if variable.name in dataset.keys:
            column["keySequence"] = dataset.keys.index(variable.name) + 1
        columns.append(column)
    header = {
        "datasetJSONCreationDateTime": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"{study_oid}.SDTM.{dataset.name}",
        "originator": "IAH-PRRT eCRF",
        "sourceSystem": {"name": "ecrf", "version": version},
        "studyOID": study_oid,
        "metaDataVersionOID": f"MDV.{study_oid}.SDTM.{version}",
        "metaDataRef": "define.xml",
        "itemGroupOID": f"IG.{dataset.name}",
        "isReferenceData": False,
        "records": written.records,
        "name": dataset.name,
        "label": dataset.label,
        "columns": columns,
    }
    names = dataset.names
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header)[:-1] + ', "rows": [')
        for number, row in enumerate(read_csv(written)):
            out.write("," if number else "")
            out.write(
                json.dumps([_json_value(written, n, v) for n, v in zip(names, row, strict=True)])
            )
        out.write("]}")
    return path


DEFINE_COLUMNS = (
    "Dataset",
    "Dataset label",
    "Structure",
    "Keys",
    "Records",
    "Variable",
    "Label",
    "Type",
    "Length",
    "Origin",
    "Source / derivation",
    "Code list",
)


def write_define(written: Iterable[Written], qualifiers: dict[str, tuple], path: Path) -> Path:
    """The define document as CSV: one row per variable of every dataset written, then
    one per supplemental qualifier (as "QNAM=…" rows of its SUPP-- dataset)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(DEFINE_COLUMNS)
        for item in written:
            dataset = item.dataset
            for variable in dataset.variables:
                writer.writerow(
                    (
                        dataset.name,
                        dataset.label,
                        dataset.structure,
                        " ".join(dataset.keys),
                        item.records,
                        variable.name,
                        variable.label,
                        variable.type,
                        item.lengths[variable.name] if variable.type != NUM else 8,
                        variable.origin,
                        variable.source,
                        variable.codelist,
                    )
                )
            for qnam, label, origin in qualifiers.get(dataset.name, ()):
                writer.writerow(
                    (
                        dataset.name,
                        dataset.label,
                        dataset.structure,
                        " ".join(dataset.keys),
                        item.records,
                        f"QNAM={qnam}",
                        label,
                        "Char",
                        item.lengths["QVAL"],
                        origin,
                        f"Non-standard variable {qnam} of {dataset.name[4:]}",
                        "",
                    )
                )
    return path
