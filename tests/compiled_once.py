"""What every test app compiles the same way, compiled once per test process.

Each test builds its own app (its own database, its own settings), and two things in
building and using one cost more than the test itself: werkzeug compiles two small Python
functions (``ast`` then ``compile``) for each of the app's ~80 URL rules, and Jinja compiles
each template an app renders, again in every app. Both results depend only on their source
(the rule's text and parts; the template's file and checksum), so apps can share them:

- URL builders are kept by rule; rules whose dynamic parts have defaults (their converter
  writes the default in, so the builder depends on the converter) are compiled as before;
- templates go through a Jinja bytecode cache held in memory (Jinja checks the source's
  checksum, so an edited template is compiled again).

- the loaded study definition: ``load_study`` validates a definition and the first save
  fingerprints it (``LoadedStudy.digest``), a second or more of a test on the real trial;
  a definition is frozen data, so the apps of a run built on the same one share its
  ``LoadedStudy``. Only the apps' loads are shared: tests that call ``load_study``
  themselves load (and fingerprint) afresh, and a definition that fails is loaded again.

- compiled SQL: SQLAlchemy keeps it per engine, keyed by the engine's dialect object, so
  each test's new engine compiled every statement again (a fifth of a short test). Engines
  share one cache, and two dialects of one class with the same settings and server version
  are the same key (the compiled text and its processors depend on nothing else).

Nothing else is shared: each app keeps its own routes, Jinja environment and settings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy.engine.default import DefaultDialect
from werkzeug.routing.rules import Rule

import ecrf
from ecrf.records import loader

_compile_builder = Rule._compile_builder
_builders: dict[tuple, Callable[..., Any]] = {}


def _shared_builder(self: Rule, append_unknown: bool = True) -> Callable[..., Any]:
    defaults = self.defaults or {}
    if any(is_dynamic and data in defaults for is_dynamic, data in self._trace):
        return _compile_builder(self, append_unknown)
    key = (self.rule, tuple(self._trace), tuple(defaults), append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates by file, kept with the checksum of the source they came from."""

    def __init__(self) -> None:
        self._code: dict[str, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        kept = self._code.get(bucket.key)
        if kept is not None and kept[0] == bucket.checksum:
            bucket.code = kept[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[bucket.key] = (bucket.checksum, bucket.code)

    def clear(self) -> None:
        self._code.clear()


_load_study = loader.load_study
#: The definitions the apps were built on, by identity (kept, so that an id is never reused).
_studies: dict[int, tuple[Any, loader.LoadedStudy]] = {}


def _shared_study(study: Any) -> loader.LoadedStudy:
    if sys._getframe(1).f_code is not ecrf.create_app.__code__:
        return _load_study(study)
    kept = _studies.get(id(study))
    if kept is None:
        kept = _studies[id(study)] = (study, _load_study(study))
    return kept[1]


#: What a statement's compiled form depends on in a dialect, beside its class.
_DIALECT_SETTINGS = (
    "server_version_info",
    "paramstyle",
    "positional",
    "label_length",
    "max_identifier_length",
    "supports_native_boolean",
    "use_insertmanyvalues",
    "insertmanyvalues_page_size",
    "implicit_returning",
    "_json_serializer",
    "_json_deserializer",
    "default_schema_name",
)
_compiled_sql = sa.util.LRUCache(5000)
_make_engine = SQLAlchemy._make_engine


def _dialect_settings(dialect: DefaultDialect) -> tuple:
    return (type(dialect), *(getattr(dialect, name, None) for name in _DIALECT_SETTINGS))


def _same_dialect(self: DefaultDialect, other: object) -> bool:
    if self is other:
        return True
    if not isinstance(other, DefaultDialect):
        return NotImplemented
    return _dialect_settings(self) == _dialect_settings(other)


def _dialect_hash(self: DefaultDialect) -> int:
    return hash(type(self))  # the settings change at first connect: not part of the hash


def _engine_sharing_compiled_sql(self: SQLAlchemy, *args: Any, **kwargs: Any) -> sa.Engine:
    engine = _make_engine(self, *args, **kwargs)
    if engine._compiled_cache is not None:
        engine._compiled_cache = _compiled_sql
    return engine


def install() -> None:
    """For every app this process builds from now on (tests/conftest.py, at import)."""
    Rule._compile_builder = _shared_builder  # type: ignore[method-assign]
    loader.load_study = _shared_study
    DefaultDialect.__eq__ = _same_dialect  # type: ignore[method-assign,assignment]
    DefaultDialect.__hash__ = _dialect_hash  # type: ignore[method-assign,assignment]
    SQLAlchemy._make_engine = _engine_sharing_compiled_sql  # type: ignore[method-assign]
    Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": MemoryBytecodeCache()}
