"""XML text and attribute values escaped exactly as lxml (libxml2) writes them in UTF-8, for
the parts of the ODM file written as text rather than as element trees.

Exactly: the file's bytes must not depend on which of the two wrote a part. What lxml
refuses (C0 controls other than tab, newline and carriage return; surrogates; U+FFFE and
U+FFFF) is refused here with lxml's own error.
"""

from __future__ import annotations

import re

#: lxml's message for a string XML cannot hold.
INCOMPATIBLE = (
    "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
)

_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_ATTRIBUTE_SPECIAL = re.compile(f'[&<>"\t\n\r{_FORBIDDEN}]')
_TEXT_SPECIAL = re.compile(f"[&<>\r{_FORBIDDEN}]")
_INVALID = re.compile(f"[{_FORBIDDEN}]")

_ATTRIBUTE_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\t": "&#9;",
    "\n": "&#10;",
    "\r": "&#13;",
}
_TEXT_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def attribute(value: str) -> str:
    """``value`` as it appears between the quotes of an attribute.

    :raises ValueError: ``value`` holds a character XML 1.0 cannot hold.
    """
    if _ATTRIBUTE_SPECIAL.search(value) is None:  # nearly always: nothing to do
        return value
    return _escape(value, _ATTRIBUTE_SPECIAL, _ATTRIBUTE_ENTITIES)


def text(value: str) -> str:
    """``value`` as the text content of an element.

    :raises ValueError: ``value`` holds a character XML 1.0 cannot hold.
    """
    if _TEXT_SPECIAL.search(value) is None:
        return value
    return _escape(value, _TEXT_SPECIAL, _TEXT_ENTITIES)


def _escape(value: str, special: re.Pattern, entities: dict[str, str]) -> str:
    if _INVALID.search(value) is not None:
        raise ValueError(INCOMPATIBLE)
    return special.sub(lambda match: entities[match.group()], value)
