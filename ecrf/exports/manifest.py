"""The manifest of an extract: when, by whom, from what, and the SHA-256 of every file,
so a recipient can prove the files are the ones the system wrote and tie them to the audit
trail (the checkpoint of the chain's head the extract was read at)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ecrf.audit.checkpoints import Checkpoint

MANIFEST_FILE = "manifest.json"
#: Bytes read at a time when hashing (files are hashed from disk, never held in memory).
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FileEntry:
    name: str
    #: Data rows (the header line not counted); None for files that are not tables.
    rows: int | None
    sha256: str
    bytes: int


@dataclass
class Manifest:
    kind: str
    study: str
    definition_version: str
    generated_at: datetime
    generated_by: str
    #: Site codes in the extract, or None for every site.
    sites: list[str] | None
    free_text_withheld: bool
    checkpoint: Checkpoint
    files: list[FileEntry] = field(default_factory=list)

    def add(self, path: Path, rows: int | None) -> FileEntry:
        entry = FileEntry(path.name, rows, sha256_file(path), path.stat().st_size)
        self.files.append(entry)
        return entry

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "study": self.study,
            "definition_version": self.definition_version,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "generated_by": self.generated_by,
            "site_scope": "all" if self.sites is None else self.sites,
            "free_text_withheld": self.free_text_withheld,
            "audit_checkpoint": {
                "seq": self.checkpoint.seq,
                "hash": self.checkpoint.hash,
                "at": self.checkpoint.at.isoformat(timespec="seconds"),
            },
            "files": [
                {"name": f.name, "rows": f.rows, "sha256": f.sha256, "bytes": f.bytes}
                for f in self.files
            ],
        }

    def write(self, folder: Path) -> Path:
        path = folder / MANIFEST_FILE
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
        return path


def read_manifest(zip_path: Path) -> dict:
    """The manifest of a zipped extract (its files sit in one folder inside the zip)."""
    with zipfile.ZipFile(zip_path) as archive:
        name = next(n for n in archive.namelist() if n.rsplit("/", 1)[-1] == MANIFEST_FILE)
        return json.loads(archive.read(name))
