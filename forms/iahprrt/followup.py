"""Follow-up contacts: the adverse-event review of every safety visit, and the safety
call after the IAH procedure (end of study for patients outside the therapy sub-group)."""

from __future__ import annotations

from forms.iahprrt import checks as ck
from forms.iahprrt.common import check, choice, day, yes_no
from forms.iahprrt.visit_dates import on_visit_date
from forms.language import Form, ItemGroup
from forms.rules import compare

AEREV = Form(
    "AEREV",
    "Adverse event review",
    (
        ItemGroup(
            "AEREV",
            "Review",
            (
                day("REVDAT", "Date of the review", required=True, missing_allowed=False),
                yes_no(
                    "AEYN",
                    "Any new or worsened adverse event since the last contact?",
                    required=True,
                    help="If yes, record it in the adverse event log.",
                    cdash="AEYN",
                ),
                yes_no(
                    "CMYN",
                    "Any new or changed concomitant medication since the last contact?",
                    required=True,
                    help="If yes, update the concomitant medication log.",
                    cdash="CMYN",
                ),
            ),
        ),
    ),
    checks=(check("AE_IN_LOG", "AEYN", ck.review_needs_log, "AEYN", "LOGS.AE.AE[]"),),
)

CALL = Form(
    "CALL",
    "Safety call after the IAH procedure",
    (
        ItemGroup(
            "CALL",
            "Contact",
            (
                day("CALLDAT", "Date of the contact", required=True, missing_allowed=False),
                choice("CALLMODE", "Contact", "CALLMODE", required=True),
                yes_no(
                    "AEYN",
                    "Any adverse event since the IAH procedure?",
                    required=True,
                    help="If yes, record it in the adverse event log.",
                    cdash="AEYN",
                ),
                yes_no(
                    "CMYN",
                    "Any new or changed concomitant medication since the procedure?",
                    required=True,
                    cdash="CMYN",
                ),
            ),
        ),
    ),
    checks=(
        check("AE_IN_LOG", "AEYN", ck.review_needs_log, "AEYN", "LOGS.AE.AE[]"),
        check(
            "END_OF_STUDY_OUTSIDE_THERAPY",
            "CALLDAT",
            ck.call_ends_study,
            "SCR.IC.THERAPY",
            "LOGS.EOS.EOSSTAT",
        ),
        compare(
            "AFTER_PETIAH",
            "CALLDAT",
            ">",
            "PETIAH.PETIAH.PETDAT",
            message=(
                "The safety call ({left}) is not after the IAH procedure ({right}, D0): is the"
                " date right?"
            ),
        ),
        on_visit_date(
            "CALLDAT",
            "The call date ({left}) is not the date of this visit ({right}): which is right?",
        ),
    ),
)
