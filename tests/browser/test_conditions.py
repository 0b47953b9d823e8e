"""Show/hide conditions: the page's script (ecrf/static/conditions.js) and the server
(forms.language.holds, on the values as the write path parses them) give the same answer
for every operator, on every type of item, for the texts a nurse may type."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ecrf.records import fields
from ecrf.templating import condition_json
from forms.language import YES_NO, AllOf, AnyOf, CodeList, DataType, Item, When, holds

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "ecrf" / "static" / "conditions.js"

CODES = CodeList("CL", "Codes", (("A", "a"), ("B", "b"), ("1", "one")))
ITEMS = {
    "YN": Item("YN", "Yes or no", DataType.YES_NO),
    "CH": Item("CH", "Choice", DataType.CHOICE, codelist="CL"),
    "MC": Item("MC", "Choices", DataType.MULTI_CHOICE, codelist="CL"),
    "INT": Item("INT", "Whole number", DataType.INTEGER),
    "DEC": Item("DEC", "Number", DataType.DECIMAL, precision=1),
}
CODELISTS = {"YN": YES_NO, "CH": CODES, "MC": CODES}
#: What may be typed (or ticked) in each item, empty included.
TYPED = {
    "YN": ["", "Y", "N"],
    "CH": ["", "A", "B", "1"],
    "MC": [[], ["A"], ["B"], ["A", "B"]],
    "INT": ["", "69", "70", "070", "71", "-70"],
    "DEC": ["", "70", "70.0", "70,5", "70.5", "70.6", "-0.0", "0"],
}
#: Conditions a definition may write on each item.
CONDITIONS = {
    "YN": [When("YN", "eq", "Y"), When("YN", "ne", "Y"), When("YN", "in", ("Y",))],
    "CH": [When("CH", "eq", "A"), When("CH", "ne", "A"), When("CH", "in", ("A", "1"))],
    "MC": [When("MC", "eq", "A"), When("MC", "ne", "A")],
    "INT": [When("INT", op, 70) for op in ("eq", "ne", "gt", "ge", "lt", "le")]
    + [When("INT", "in", (70, 80))],
    "DEC": [When("DEC", op, Decimal("70.5")) for op in ("eq", "ne", "gt", "ge", "lt", "le")]
    + [When("DEC", "eq", 70), When("DEC", "ge", 0)],
}
for oid in ITEMS:
    CONDITIONS[oid] += [When(oid, "filled"), When(oid, "empty")]


def _typed(oid: str, raw):
    return fields.parse(ITEMS[oid], raw, CODELISTS.get(oid))


def _cases():
    for oid, conditions in CONDITIONS.items():
        for condition, raw in itertools.product(conditions, TYPED[oid]):
            yield condition, {oid: raw}
    # Combinations read several items at once.
    for yn, ch, dec in itertools.product(TYPED["YN"], TYPED["CH"], ["", "70.5", "71"]):
        values = {"YN": yn, "CH": ch, "DEC": dec}
        yield AllOf((When("YN", "eq", "Y"), When("DEC", "gt", 70))), values
        yield AnyOf((When("CH", "in", ("A", "B")), When("DEC", "empty"))), values
        yield (
            AllOf((When("YN", "filled"), AnyOf((When("CH", "eq", "1"), When("CH", "eq", "B"))))),
            values,
        )


@pytest.fixture
def script_page(page: Page) -> Page:
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(path=str(SCRIPT))
    return page


def test_the_page_and_the_server_agree_on_every_condition(script_page: Page):
    cases = list(_cases())
    server = [
        holds(c, {oid: _typed(oid, raw) for oid, raw in values.items()}) for c, values in cases
    ]
    page = script_page.evaluate(
        """(cases) => cases.map(([cond, values]) =>
            window.ecrfConditions.holds(JSON.parse(cond), (item) => values[item] ?? ""))""",
        [[condition_json(c), values] for c, values in cases],
    )
    differ = [
        (condition_json(c), values, s, p)
        for (c, values), s, p in zip(cases, server, page, strict=True)
        if s != p
    ]
    assert len(cases) > 250
    assert differ == []
