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

Nothing else is shared: each app keeps its own routes, Jinja environment and settings.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import Any

from flask import Flask
from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.routing.rules import Rule

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


def install() -> None:
    """For every app this process builds from now on (tests/conftest.py, at import)."""
    Rule._compile_builder = _shared_builder  # type: ignore[method-assign]
    Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": MemoryBytecodeCache()}
