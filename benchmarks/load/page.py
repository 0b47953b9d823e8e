"""What a browser reads off a page: its links and its forms with the values they would post.

The standard library's HTML parser is enough for the application's server-rendered pages;
the load test submits forms as they come (CSRF token, hidden version, selected options),
changing only what a user would type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class WebForm:
    """A ``<form>``: where it posts and the fields a browser would send, in page order."""

    action: str
    method: str
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    #: Names of the selects and their option values (the first is the blank "choose").
    options: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def values(self, **changes: str) -> dict[str, str]:
        """The fields as posted, with ``changes`` typed over them."""
        return {**self.fields, **changes}


class Page(HTMLParser):
    """Parse ``html`` (served at ``path``) into ``links`` and ``forms``."""

    def __init__(self, html: str, path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.links: list[str] = []
        self.forms: list[WebForm] = []
        self._form: WebForm | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = WebForm(
                attrs.get("action") or self.path, (attrs.get("method") or "get").lower(), attrs
            )
            self.forms.append(self._form)
        elif tag == "option" and self._form is not None and self._select is not None:
            value = attrs.get("value", "")
            self._form.options[self._select].append(value)
            if "selected" in attrs:
                self._form.fields[self._select] = value
        elif self._form is None or "name" not in attrs:
            return
        elif tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form.fields[attrs["name"]] = attrs.get("value", "on")
            elif kind == "submit":
                self._form.buttons.append((attrs["name"], attrs.get("value", "")))
            else:
                self._form.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs["name"]
            self._form.options[self._select] = []
            self._form.fields.setdefault(self._select, "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._form.fields[self._textarea] = ""
        elif tag == "button":
            self._form.buttons.append((attrs["name"], attrs.get("value", "")))

    def handle_startendtag(self, tag, attrs_list) -> None:
        self.handle_starttag(tag, attrs_list)

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def form(self, **attrs: str) -> WebForm | None:
        """The first form whose attributes include ``attrs`` (e.g. ``id="entry-form"``),
        leaving out the menu's sign-out form unless its action is asked for."""
        for form in self.forms:
            if form.action == "/logout" and attrs.get("action") != "/logout":
                continue
            if all(
                form.attrs.get(k) == v or (k == "action" and form.action == v)
                for k, v in attrs.items()
            ):
                return form
        return None

    def links_under(self, prefix: str) -> list[str]:
        """The distinct links starting with ``prefix``, fragments dropped, in page order."""
        seen: dict[str, None] = {}
        for link in self.links:
            if link.startswith(prefix):
                seen.setdefault(link.split("#", 1)[0], None)
        return list(seen)
