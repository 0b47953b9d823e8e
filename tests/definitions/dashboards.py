"""The mini study with what the dashboards read: an enrolment target, numbered adverse
events and an SAE report log naming the event it reports (24 h clock)."""

from __future__ import annotations

from dataclasses import replace

from forms.language import DataType, Form, Item, ItemGroup, SeriousEventReporting
from tests.definitions import mini
from tests.definitions.edit import add_item

SAE = Form(
    "SAE",
    "SAE reports",
    (
        ItemGroup(
            "SAE",
            "Reports",
            (
                Item("SAENUM", "AE number", DataType.INTEGER, required=True),
                Item("REPDAT", "Date sent", DataType.DATE),
            ),
            repeating=True,
        ),
    ),
)

_study = add_item(mini.STUDY, "AE", Item("AENUM", "AE number", DataType.INTEGER))
STUDY = replace(
    _study,
    oid="MINIDASH",
    forms=(*_study.forms, SAE),
    visits=tuple(
        replace(v, forms=(*v.forms, "SAE")) if v.oid == "LOGS" else v for v in _study.visits
    ),
    enrolment_target=4,
    critical_forms=("ENR", "AE"),
    serious_events=SeriousEventReporting(
        events="LOGS.AE.AE[]",
        serious="AESER",
        number="AENUM",
        reports="LOGS.SAE.SAE[]",
        report_number="SAENUM",
    ),
)
