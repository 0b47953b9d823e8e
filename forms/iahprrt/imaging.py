"""Imaging: RECIST 1.1 baseline and response (CT / hepatic MRI), the 68Ga-DOTA-peptide
PET/CT scans after IV and after intra-arterial hepatic (IAH) injection, and the hepatic
arteriography of the IAH procedure.

PET index lesions (the 5 liver metastases of the primary endpoint) and RECIST target
lesions (at most 2 per organ) are separate lists that share one lesion identifier: a
liver metastasis that is both carries the same LESID in both (e.g. "L1").

The language has no reference to "the rows of this group in this entry"; a form whose
derivations or checks need all rows of its own repeating group therefore names its
visit, and is generated once per visit (RECIST response at M3 and M6: TRM3, TRM6).
"""

from __future__ import annotations

from forms.iahprrt import checks as ck
from forms.iahprrt import derivations as dv
from forms.iahprrt import pet_pairs as pp
from forms.iahprrt import recist
from forms.iahprrt.common import (
    check,
    choice,
    clock,
    day,
    decimal,
    derive,
    derived,
    integer,
    shown,
    text,
    yes_no,
)
from forms.iahprrt.visit_dates import in_visit_window, on_visit_date
from forms.language import (
    Check,
    DataType,
    Derivation,
    Form,
    Item,
    ItemGroup,
    Severity,
    When,
)
from forms.rules import compare, listed, unique, within

# --- RECIST 1.1 baseline ----------------------------------------------------------------------

_LESID_HELP = (
    "Stable identifier, the same on every form and visit: L1–L5 for the liver index lesions,"
    " then L6…, N1… (nodes), B1… (bone), O1… (other)."
)

#: Messages of the lesion identifier checks ({value}: the identifier).
LESION_TWICE = "Lesion {value} is used more than once."
LESION_IN_OTHER_TABLE = "Lesion {value} is already listed in the other lesion table of this form."

#: Messages of the baseline imaging window ({value}: the imaging date, {reference}: the
#: PET-IV date, {earliest}/{latest}: the window).
BASELINE_CT_OUTSIDE = (
    "The inclusion CT ({value}) is not within the 28 days before the PET-IV ({reference}),"
    " the first radiopharmaceutical: is the date right? RECIST 1.1 expects the baseline CT"
    " from {earliest} to {latest}; if it is older, please repeat it or explain why."
)
BASELINE_MRI_OUTSIDE = (
    "The inclusion MRI ({value}) is not within the 28 days before the PET-IV ({reference}),"
    " the first radiopharmaceutical: is the date right? RECIST 1.1 expects the baseline MRI"
    " from {earliest} to {latest}; if it is older, please repeat it or explain why."
)


def _lesion_id(oid: str, **kw) -> Item:
    return text(
        oid,
        "Lesion identifier",
        max_length=8,
        required=True,
        help=_LESID_HELP,
        missing_allowed=False,  # a lesion is named, never "not done" or "unknown"
        cdash="TULNKID",
        sdtm="TU.TULNKID",
        **kw,
    )


TUBL = Form(
    "TUBL",
    "Baseline tumour assessment (RECIST 1.1)",
    (
        ItemGroup(
            "IMG",
            "Inclusion imaging",
            (
                day(
                    "CTDAT",
                    "Date of the chest-abdomen-pelvis CT",
                    required=True,
                    missing_allowed=False,
                    sdtm="TU.TUDTC",
                ),
                day(
                    "MRIDAT",
                    "Date of the hepatic MRI",
                    required=True,
                    missing_allowed=False,
                    sdtm="TU.TUDTC",
                ),
                yes_no(
                    "LESYN",
                    "Any tumour lesion on the inclusion CT and MRI?",
                    required=True,
                    help="No lesion at all = complete response: exclusion criterion EXC01.",
                ),
                choice(
                    "HEPBURD",
                    "Hepatic tumour burden now",
                    "HEPBURD",
                    help="Visual estimate of the liver volume replaced by tumour.",
                ),
                derived(
                    "SUMDIAM",
                    "Baseline sum of diameters",
                    units="mm",
                    sdtm="TR.TRORRES[SUMDIAM]",
                ),
            ),
        ),
        ItemGroup(
            "TL",
            "Target lesions (at most 5, at most 2 per organ)",
            (
                _lesion_id("LESID"),
                choice("ORGAN", "Organ", "ORGAN", required=True, sdtm="TU.TULOC"),
                choice(
                    "LIVSEG",
                    "Liver segment",
                    "LIVSEG",
                    **shown(When("ORGAN", "eq", "LIVER")),
                    sdtm="TU.TULOCDTL",
                ),
                choice("METHOD", "Method", "IMGMETH", required=True, sdtm="TU.TUMETHOD"),
                integer(
                    "DIAM",
                    "Longest diameter (short axis for a lymph node)",
                    "mm",
                    hard=(1, 400),
                    required=True,
                    help="Measurable: ≥ 10 mm; lymph node ≥ 15 mm short axis.",
                    sdtm="TR.TRORRES[LDIAM]",
                ),
            ),
            repeating=True,
            max_rows=recist.MAX_TARGETS,
            domain="TU",
        ),
        ItemGroup(
            "NTL",
            "Non-target lesions",
            (
                _lesion_id("NTLID"),
                choice("NTLORGAN", "Organ", "ORGAN", required=True, sdtm="TU.TULOC"),
                text(
                    "NTLDESC",
                    "Description",
                    help="e.g. 'multiple small liver metastases', 'bone lesions'.",
                ),
            ),
            repeating=True,
            domain="TU",
        ),
    ),
    derivations=(
        derive(
            "SUMDIAM",
            recist.baseline_sum,
            "SCR.TUBL.TL[]",
            formula="Σ longest diameters of non-nodal targets + Σ short axes of nodal targets.",
        ),
    ),
    checks=(
        check(
            "TARGET_MEASURABLE",
            "DIAM",
            recist.target_problem,
            "ORGAN",
            "DIAM",
            severity=Severity.REJECT,
        ),
        check(
            "TWO_PER_ORGAN",
            "ORGAN",
            recist.too_many_in_organ,
            "ORGAN",
            "SCR.TUBL.TL[]",
            severity=Severity.REJECT,
        ),
        unique(
            "TARGET_ID_UNIQUE",
            "LESID",
            among="SCR.TUBL.TL[]",
            message=LESION_TWICE,
            elsewhere="SCR.TUBL.NTL[]",
            elsewhere_item="NTLID",
            elsewhere_message=LESION_IN_OTHER_TABLE,
            severity=Severity.REJECT,
        ),
        unique(
            "NON_TARGET_ID_UNIQUE",
            "NTLID",
            among="SCR.TUBL.NTL[]",
            message=LESION_TWICE,
            elsewhere="SCR.TUBL.TL[]",
            elsewhere_item="LESID",
            elsewhere_message=LESION_IN_OTHER_TABLE,
            severity=Severity.REJECT,
        ),
        check(
            "LESIONS_DECLARED",
            "LESYN",
            ck.lesions_declared,
            "LESYN",
            "SCR.TUBL.TL[]",
            "SCR.TUBL.NTL[]",
        ),
        *(
            within(
                name,
                item,
                of=recist.FIRST_RADIOPHARMACEUTICAL,
                days=(-recist.BASELINE_IMAGING_DAYS, 0),
                message=message,
            )
            for name, item, message in (
                ("CT_BEFORE_FIRST_PET", "CTDAT", BASELINE_CT_OUTSIDE),
                ("MRI_BEFORE_FIRST_PET", "MRIDAT", BASELINE_MRI_OUTSIDE),
            )
        ),
        compare(
            "MRI_AFTER_LAST_CYCLE",
            "MRIDAT",
            ">=",
            "SCR.PRTX.LUTLAST",
            message=(
                "The inclusion MRI ({left}) is before the last LUTATHERA cycle ({right}): is"
                " the date right? Inclusion imaging follows the 4 cycles."
            ),
        ),
        compare(
            "CT_AFTER_LAST_CYCLE",
            "CTDAT",
            ">=",
            "SCR.PRTX.LUTLAST",
            message=(
                "The inclusion CT ({left}) is before the last LUTATHERA cycle ({right}): is"
                " the date right? Inclusion imaging follows the 4 cycles."
            ),
        ),
    ),
)


# --- RECIST 1.1 response (one form per visit) ---------------------------------------------


#: Messages of the date of a response assessment ({left}: its date, {right}: the other).
AFTER_PREVIOUS_ASSESSMENT = (
    "This assessment ({left}) is not after the previous one ({right}): is the date right?"
)
AFTER_ADMINISTRATION = (
    "This assessment ({left}) is not after the 177Lu administration ({right}): is the date right?"
)

_BEST_FORMULA = (
    "CR / PR: two CR (CR or PR) time-point responses at least 28 days apart before any"
    " progression; SD: CR, PR or SD at least 42 days (protocol silent: 6 weeks) after the"
    " baseline imaging; PD: progression otherwise; NE: none of these."
)


def recist_response_form(visit: str, visit_name: str, earlier: tuple[str, ...]) -> Form:
    """The response assessment at ``visit``; ``earlier`` are the earlier response visits,
    whose sums enter the nadir and whose date this one must follow."""
    oid = f"TR{visit}"
    own_tl, own_ntl = f"{visit}.{oid}.TL[]", f"{visit}.{oid}.NTL[]"
    earlier_sums = tuple(f"{v}.TR{v}.SUMDIAM" for v in earlier)
    previous = f"{earlier[-1]}.TR{earlier[-1]}.TRDAT" if earlier else "THER.LUADM.EXSTDAT"
    # The best response reads every response visit so far: the earlier ones by reference,
    # this one by its own items (date, time-point response).
    visits = (*earlier, visit)
    best_inputs = ("SCR.TUBL.CTDAT", "SCR.TUBL.MRIDAT")
    for v in earlier:
        best_inputs += (f"{v}.TR{v}.TRDAT", f"{v}.TR{v}.OVRLRESP")
    best_inputs += ("TRDAT", "OVRLRESP")
    return Form(
        oid,
        f"Tumour response, RECIST 1.1 ({visit_name})",
        (
            ItemGroup(
                "IMG",
                "Assessment",
                (
                    day(
                        "TRDAT",
                        "Date of the CT / MRI",
                        required=True,
                        missing_allowed=False,
                        sdtm="TR.TRDTC",
                    ),
                    choice(
                        "METHOD",
                        "Method (as at baseline)",
                        "IMGMETH",
                        required=True,
                        sdtm="TR.TRMETHOD",
                    ),
                    choice(
                        "NEWLES",
                        "New lesion",
                        "NEWLES",
                        required=True,
                        sdtm="RS.RSORRES[NEWLPROG]",
                    ),
                    text(
                        "NEWLOC",
                        "New lesion: where",
                        **shown(When("NEWLES", "in", ("EQ", "Y"))),
                    ),
                    choice(
                        "INVRESP",
                        "Overall response as read by the radiologist",
                        "RECRESP",
                        required=True,
                        help="Compared with the response derived below.",
                    ),
                ),
            ),
            ItemGroup(
                "TL",
                "Target lesions (each baseline target)",
                (
                    text(
                        "LESID",
                        "Target lesion identifier (as at baseline)",
                        max_length=8,
                        required=True,
                        missing_allowed=False,
                        sdtm="TR.TRLNKID",
                    ),
                    integer(
                        "DIAM",
                        "Longest diameter (short axis for a lymph node)",
                        "mm",
                        hard=(0, 400),
                        required=True,
                        help="0 if disappeared; 5 if present but too small to measure.",
                        sdtm="TR.TRORRES[LDIAM]",
                    ),
                ),
                repeating=True,
                max_rows=recist.MAX_TARGETS,
                domain="TR",
            ),
            ItemGroup(
                "NTL",
                "Non-target lesions (each baseline non-target)",
                (
                    text(
                        "NTLID",
                        "Non-target lesion identifier (as at baseline)",
                        max_length=8,
                        required=True,
                        missing_allowed=False,
                        sdtm="TR.TRLNKID",
                    ),
                    choice(
                        "NTLSTAT",
                        "Status",
                        "NTLSTAT",
                        required=True,
                        sdtm="TR.TRORRES[TUMSTATE]",
                    ),
                ),
                repeating=True,
                domain="TR",
            ),
            ItemGroup(
                "RESP",
                "Derived response",
                (
                    derived("SUMDIAM", "Sum of diameters", units="mm", sdtm="TR.TRORRES[SUMDIAM]"),
                    derived("NADIR", "Nadir (smallest earlier sum, baseline included)", units="mm"),
                    derived("PCHBL", "Change from baseline", units="%"),
                    derived("PCHNAD", "Change from nadir", units="%"),
                    derived(
                        "TRGRESP",
                        "Target response",
                        DataType.CHOICE,
                        codelist="RECRESP",
                        sdtm="RS.RSORRES[TRGRESP]",
                    ),
                    derived(
                        "NTRGRESP",
                        "Non-target response",
                        DataType.CHOICE,
                        codelist="NTRESP",
                        sdtm="RS.RSORRES[NTRGRESP]",
                    ),
                    derived(
                        "OVRLRESP",
                        "Overall response (RECIST 1.1)",
                        DataType.CHOICE,
                        codelist="RECRESP",
                        sdtm="RS.RSORRES[OVRLRESP]",
                    ),
                    derived(
                        "BESTRESP",
                        "Best overall response so far (CR / PR confirmed)",
                        DataType.CHOICE,
                        codelist="RECRESP",
                        sdtm="RS.RSORRES[BESTRESP]",
                    ),
                    derived("BESTWHY", "Best overall response: basis", DataType.TEXT),
                ),
            ),
        ),
        derivations=(
            derive(
                "SUMDIAM",
                recist.follow_up_sum,
                "SCR.TUBL.TL[]",
                own_tl,
                formula="Σ diameters of the baseline target lesions measured at this visit"
                " (none missing).",
            ),
            derive(
                "NADIR",
                recist.nadir,
                "SCR.TUBL.SUMDIAM",
                *earlier_sums,
                formula="Smallest sum of diameters before this visit, baseline included.",
            ),
            derive(
                "PCHBL",
                recist.percent_change,
                "SUMDIAM",
                "SCR.TUBL.SUMDIAM",
                formula="(sum − baseline sum) / baseline sum × 100.",
            ),
            derive(
                "PCHNAD",
                recist.percent_change,
                "SUMDIAM",
                "NADIR",
                formula="(sum − nadir) / nadir × 100.",
            ),
            derive(
                "TRGRESP",
                recist.target_response,
                "SCR.TUBL.TL[]",
                own_tl,
                "NADIR",
                formula="CR: non-nodal targets 0 mm and nodal < 10 mm; PD: ≥ +20 % and ≥ +5 mm"
                " from the nadir; PR: ≤ −30 % from baseline; SD otherwise; NE: a target"
                " unmeasured.",
            ),
            derive(
                "NTRGRESP",
                recist.non_target_response,
                "SCR.TUBL.NTL[]",
                own_ntl,
                formula="PD: unequivocal progression; CR: all absent; NE: one not evaluated;"
                " non-CR/non-PD otherwise; NA: no non-target lesion at baseline.",
            ),
            derive(
                "OVRLRESP",
                recist.overall_response,
                "TRGRESP",
                "NTRGRESP",
                "NEWLES",
                formula="RECIST 1.1 time-point response from target, non-target and new lesions.",
            ),
            derive(
                "BESTRESP",
                recist.best_overall_response,
                *best_inputs,
                constants=(visits,),
                formula=_BEST_FORMULA,
            ),
            derive(
                "BESTWHY",
                recist.best_response_basis,
                *best_inputs,
                constants=(visits,),
                formula=_BEST_FORMULA,
            ),
        ),
        checks=(
            listed(
                "TARGET_FROM_BASELINE",
                "LESID",
                among="SCR.TUBL.TL[]",
                message="Lesion {value} is not a baseline target lesion.",
                severity=Severity.REJECT,
            ),
            listed(
                "NON_TARGET_FROM_BASELINE",
                "NTLID",
                among="SCR.TUBL.NTL[]",
                message="Lesion {value} is not a baseline non-target lesion.",
                severity=Severity.REJECT,
            ),
            unique(
                "TARGET_ONCE",
                "LESID",
                among=own_tl,
                message="Target lesion {value} is used more than once.",
                severity=Severity.REJECT,
            ),
            unique(
                "NON_TARGET_ONCE",
                "NTLID",
                among=own_ntl,
                message="Non-target lesion {value} is used more than once.",
                severity=Severity.REJECT,
            ),
            check(
                "RESPONSE_AS_DERIVED",
                "INVRESP",
                ck.differs_from_derived,
                "INVRESP",
                "OVRLRESP",
                constants=("Overall response",),
            ),
            compare(
                "AFTER_PREVIOUS",
                "TRDAT",
                ">",
                previous,
                message=AFTER_PREVIOUS_ASSESSMENT if earlier else AFTER_ADMINISTRATION,
            ),
            in_visit_window(
                "TRDAT",
                "The CT / MRI ({value}) lies outside the window of this visit ({low} to"
                " {high}): is the date right?",
            ),
        ),
    )


TRM3 = recist_response_form("M3", "month 3", ())
TRM6 = recist_response_form("M6", "month 6", ("M3",))


# --- 68Ga PET/CT -----------------------------------------------------------------------------

#: Organs of the dosimetric secondary endpoint: item prefix, label.
PET_ORGANS = (
    ("KID", "Kidney (renal cortex)"),
    ("SPL", "Spleen"),
    ("LIV", "Healthy liver (reference VOI in tumour-free parenchyma)"),
    ("BM", "Bone marrow (lumbar vertebrae L3–L5)"),
)
_SUV_METRICS = (("SUVMAX", "SUVmax"), ("SUVMEAN", "SUVmean"), ("SUVPEAK", "SUVpeak"))

#: Lesion tables of a PET form: group OID, item prefix (item OIDs are unique per form),
#: label, and the location item.
_LESION_TABLES = (
    ("IDX", "", "Liver index lesions (the 5 metastases of the primary endpoint)"),
    ("EXH", "X", "Extra-hepatic lesions"),
)


def _suv(oid: str, label: str, testcd: str) -> Item:
    return decimal(oid, label, None, precision=2, hard=(0, 500), sdtm=f"TR.TRORRES[{testcd}]")


def _lesion_items(p: str, iah: bool) -> tuple[Item, ...]:
    location = (
        choice(f"{p}SITE", "Site", "ORGAN", required=True, sdtm="TU.TULOC")
        if p
        else choice("SEGMENT", "Liver segment", "LIVSEG", required=True, sdtm="TU.TULOCDTL")
    )
    items = [
        _lesion_id(f"{p}LESID"),
        location,
        _suv(f"{p}SUVMAX", "SUVmax", "SUVMAX"),
        _suv(f"{p}SUVMEAN", "SUVmean", "SUVMEAN"),
        _suv(f"{p}SUVPEAK", "SUVpeak (1 cm³ sphere)", "SUVPEAK"),
        decimal(
            f"{p}VOLUME",
            "Volume of the SUVmean VOI",
            "mL",
            precision=1,
            hard=(0.1, 5000),
            sdtm="TR.TRORRES[VOLUME]",
        ),
        derived(
            f"{p}TLR",
            "Tumour-to-liver ratio (SUVmax / healthy-liver SUVmean)",
            sdtm="TR.TRORRES[TLRATIO]",
        ),
    ]
    if iah:
        items.insert(
            2,
            yes_no(
                f"{p}PERF",
                "Perfused",
                required=True,
                help="In the arterial territory injected: yes or no. The primary endpoint"
                " counts the perfused lesions.",
            ),
        )
        items += [derived(f"{p}G{metric}", f"{label} IAH / IV") for metric, label in _SUV_METRICS]
        items.append(derived(f"{p}GTLR", "Tumour-to-liver ratio IAH / IV"))
    return tuple(items)


def _place(p: str) -> str:
    """The location item of a lesion table: the liver segment, or the site elsewhere."""
    return f"{p}SITE" if p else "SEGMENT"


def _lesion_derivations(p: str, iv_rows: str | None) -> list[Derivation]:
    """Per-lesion tumour-to-liver ratio and, on the IAH PET, the IAH/IV ratios paired by
    lesion identifier and place (segment or site) with the same table of the PET-IV."""
    result = [
        derive(
            f"{p}TLR",
            dv.ratio,
            f"{p}SUVMAX",
            "LIVSUVMEAN",
            formula="Lesion SUVmax / healthy-liver SUVmean of the same scan.",
        )
    ]
    if iv_rows:
        result += [
            derive(
                f"{p}G{metric}",
                pp.paired_ratio,
                f"{p}LESID",
                _place(p),
                f"{p}{metric}",
                iv_rows,
                constants=(f"{p}LESID", _place(p), f"{p}{metric}"),
                formula=f"{label} on PET-IAH / {label} of the PET-IV lesion with the same"
                " identifier, in the same place (none when the places differ).",
            )
            for metric, label in _SUV_METRICS
        ]
        result.append(
            derive(
                f"{p}GTLR",
                pp.paired_tl_ratio,
                f"{p}LESID",
                _place(p),
                f"{p}SUVMAX",
                "LIVSUVMEAN",
                iv_rows,
                "PETIV.PETIV.LIVSUVMEAN",
                constants=(f"{p}LESID", _place(p), f"{p}SUVMAX"),
                formula="T/L on PET-IAH / T/L of the same lesion on PET-IV (each T/L: lesion"
                " SUVmax / healthy-liver SUVmean of its own scan).",
            )
        )
    return result


def _lesion_checks(
    p: str, group: str, own_rows: str | None, other_rows: str | None, iv_rows: str | None
) -> list[Check]:
    result = [
        compare(
            f"{group}_SUVMEAN_LE_SUVMAX",
            f"{p}SUVMEAN",
            "<=",
            f"{p}SUVMAX",
            message="SUVmean ({left}) cannot exceed SUVmax ({right}).",
            severity=Severity.REJECT,
        ),
        compare(
            f"{group}_SUVPEAK_LE_SUVMAX",
            f"{p}SUVPEAK",
            "<=",
            f"{p}SUVMAX",
            message="SUVpeak ({left}) cannot exceed SUVmax ({right}).",
            severity=Severity.REJECT,
        ),
    ]
    if own_rows and other_rows:
        other_key = "LESID" if p else "XLESID"
        result.append(
            unique(
                f"{group}_ID_UNIQUE",
                f"{p}LESID",
                among=own_rows,
                message=LESION_TWICE,
                elsewhere=other_rows,
                elsewhere_item=other_key,
                elsewhere_message=LESION_IN_OTHER_TABLE,
                severity=Severity.REJECT,
            )
        )
    if iv_rows:
        result.append(
            listed(
                f"{group}_ON_PETIV",
                f"{p}LESID",
                among=iv_rows,
                message="Lesion {value} is not in this table on the PET-IV: is the identifier"
                " right? No IAH/IV ratio is computed for it.",
            )
        )
    if iv_rows and not p:
        result.append(
            check(
                f"{group}_SEGMENT_AS_PETIV",
                "SEGMENT",
                pp.segment_as_reference,
                "LESID",
                "SEGMENT",
                iv_rows,
            )
        )
    if not p:
        result.append(
            check(
                f"{group}_SEGMENT_AS_BASELINE",
                "SEGMENT",
                pp.segment_as_baseline,
                "LESID",
                "SEGMENT",
                "SCR.TUBL.TL[]",
            )
        )
    return result


def pet_form(oid: str, name: str, visit: str | None, *, iah: bool, follow_up: bool = False) -> Form:
    """A 68Ga-DOTA-peptide PET/CT form.

    ``visit``: the one visit the form is used at (its checks then see all the rows of its
    own tables), or None for a form used at several visits. ``iah``: after intra-arterial
    hepatic injection, with the IAH/IV ratios against the PET-IV.
    """

    def own(group: str) -> str | None:
        return f"{visit}.{oid}.{group}[]" if visit else None

    def iv(group: str) -> str | None:
        return f"PETIV.PETIV.{group}[]" if iah else None

    acquisition: list[Item] = [
        day("PETDAT", "Date of the PET/CT", required=True, cdash="PRSTDAT", sdtm="PR.PRSTDTC"),
        choice("TRACER", "Tracer", "TRACER", required=True, cdash="AGTRT", sdtm="AG.AGTRT"),
        decimal(
            "WEIGHT",
            "Weight on the day (SUV normalisation)",
            "kg",
            precision=1,
            hard=(25, 250),
            soft=(40, 130),
            required=True,
            sdtm="VS.VSORRES[WEIGHT]",
        ),
        decimal(
            "ACTSYR",
            "Activity in the syringe",
            "MBq",
            precision=1,
            hard=(10, 1000),
            soft=(50, 300),
            required=True,
        ),
        clock("ACTSYRTM", "Syringe activity measured at", required=True),
        decimal(
            "ACTRES",
            "Residual activity after injection",
            "MBq",
            precision=1,
            hard=(0, 500),
            help="Syringe, lines and catheter; 0 if not measurable.",
        ),
        clock("ACTRESTM", "Residual activity measured at", required_when=When("ACTRES", "gt", 0)),
        clock("INJTIM", "Injection time", required=True, cdash="AGSTTIM", sdtm="AG.AGSTDTC"),
    ]
    if iah:
        acquisition += [
            choice(
                "ARTERY",
                "Artery injected (catheter tip)",
                "ARTERY",
                required=True,
                sdtm="AG.AGLOC",
                help="Route: intra-arterial hepatic (AGROUTE INTRA-ARTERIAL).",
            ),
            integer("INJDUR", "Duration of the intra-arterial injection", "min", hard=(0, 120)),
        ]
    acquisition += [
        clock("ACQTIM", "Start of the PET acquisition", required=True),
        derived(
            "INJACT",
            "Injected activity at injection (decay-corrected)",
            units="MBq",
            sdtm="AG.AGDOSE",
        ),
        derived("UPTKMIN", "Uptake delay (injection to acquisition)", DataType.INTEGER, "min"),
        text(
            "SCANNER",
            "PET/CT scanner",
            max_length=60,
            required=True,
            help="Maker, model and room as the department names it (e.g. Siemens Biograph"
            " Vision 600, room 2): the same words for both PETs of a patient.",
        ),
        choice("RECON", "Reconstruction", "RECON", required=True),
        text(
            "RECONPAR",
            "Reconstruction parameters",
            max_length=60,
            help="Iterations × subsets, filter (e.g. 4i5s, Gaussian 4 mm).",
        ),
        choice("SUVNORM", "SUV normalisation", "SUVNORM", required=True),
        choice("SEGMETH", "Volume of interest for SUVmean", "SEGMETH", required=True),
        choice("LIVREF", "Segment of the healthy-liver reference VOI", "LIVSEG", required=True),
    ]
    if iah:
        acquisition.append(
            yes_no(
                "LIVPERF",
                "Healthy-liver reference VOI in the arterial territory injected",
                required=True,
            )
        )
    acquisition.append(
        text(
            "READER",
            "Reader (nuclear medicine physician)",
            max_length=40,
            required=True,
            help="Name or initials, as on the report: the same reader for both PETs.",
        )
    )
    if follow_up:
        acquisition.append(
            yes_no("NEWPET", "New lesion compared with the inclusion PET", required=True)
        )
    acquisition.append(text("PETCOM", "Comment", max_length=500))

    organ_items: list[Item] = []
    for prefix, label in PET_ORGANS:
        organ_items += [
            _suv(f"{prefix}SUVMAX", f"{label}: SUVmax", "SUVMAX"),
            _suv(f"{prefix}SUVMEAN", f"{label}: SUVmean", "SUVMEAN"),
        ]
        if iah:
            organ_items += [
                derived(f"{prefix}GMAX", f"{label}: SUVmax IAH / IV"),
                derived(f"{prefix}GMEAN", f"{label}: SUVmean IAH / IV"),
            ]

    groups = [
        ItemGroup("PET", "Tracer and acquisition", tuple(acquisition), domain="AG"),
        ItemGroup("ORG", "Uptake in the dose-limiting organs", tuple(organ_items), domain="TR"),
        *(
            ItemGroup(
                group,
                label,
                _lesion_items(p, iah),
                repeating=True,
                max_rows=5 if group == "IDX" else None,
                domain="TR",
            )
            for group, p, label in _LESION_TABLES
        ),
    ]
    if iah:
        groups.append(
            ItemGroup(
                "GAIN",
                "Primary endpoint: uptake gain IAH / IV",
                (
                    derived(
                        "NPAIRED",
                        "Perfused index lesions paired with the PET-IV",
                        DataType.INTEGER,
                    ),
                    derived(
                        "MEDGAIN",
                        "Median SUVmax IAH / IV over the perfused index lesions",
                    ),
                    derived(
                        "NPAIRNP",
                        "Index lesions outside the territory injected, paired",
                        DataType.INTEGER,
                    ),
                    derived(
                        "MEDGAINNP",
                        "Median SUVmax IAH / IV outside the territory injected",
                    ),
                ),
            )
        )

    derivations: list[Derivation] = [
        derive(
            "INJACT",
            dv.ga68_injected,
            "ACTSYR",
            "ACTSYRTM",
            "ACTRES",
            "ACTRESTM",
            "INJTIM",
            formula=dv.GA68_FORMULA,
        ),
        derive(
            "UPTKMIN",
            dv.uptake_minutes,
            "INJTIM",
            "ACQTIM",
            formula="Start of acquisition − injection time, in minutes (68Ga half-life"
            " 67.71 min: 2^(−delay / 67.71) of the injected activity is left at the start).",
        ),
    ]
    for group, p, _ in _LESION_TABLES:
        derivations += _lesion_derivations(p, iv(group))
    if iah:
        for prefix, label in PET_ORGANS:
            for metric, short in (("MAX", "SUVmax"), ("MEAN", "SUVmean")):
                derivations.append(
                    derive(
                        f"{prefix}G{metric}",
                        dv.ratio,
                        f"{prefix}SUV{metric}",
                        f"PETIV.PETIV.{prefix}SUV{metric}",
                        formula=f"{label}: {short} on PET-IAH / {short} on PET-IV.",
                    )
                )
        derivations += [
            derive(
                "NPAIRED",
                pp.count_paired,
                f"{visit}.{oid}.IDX[]",
                "PETIV.PETIV.IDX[]",
                constants=("Y",),
                formula="Perfused index lesions with an SUVmax on both PETs, paired by"
                " identifier and segment.",
            ),
            derive(
                "MEDGAIN",
                pp.median_gain,
                f"{visit}.{oid}.IDX[]",
                "PETIV.PETIV.IDX[]",
                constants=("Y",),
                formula="Primary endpoint: median over the paired index lesions in the"
                " arterial territory injected of SUVmax IAH / SUVmax IV.",
            ),
            derive(
                "NPAIRNP",
                pp.count_paired,
                f"{visit}.{oid}.IDX[]",
                "PETIV.PETIV.IDX[]",
                constants=("N",),
                formula="Index lesions outside the territory injected with an SUVmax on both"
                " PETs, paired by identifier and segment.",
            ),
            derive(
                "MEDGAINNP",
                pp.median_gain,
                f"{visit}.{oid}.IDX[]",
                "PETIV.PETIV.IDX[]",
                constants=("N",),
                formula="Median over the paired index lesions outside the territory injected"
                " of SUVmax IAH / SUVmax IV (shown apart from the endpoint).",
            ),
        ]

    checks: list[Check] = [
        compare(
            "ACQUISITION_AFTER_INJECTION",
            "ACQTIM",
            ">",
            "INJTIM",
            message="The acquisition must start after the injection.",
            severity=Severity.REJECT,
        ),
        compare(
            "SYRINGE_BEFORE_INJECTION",
            "ACTSYRTM",
            "<=",
            "INJTIM",
            message=(
                "The syringe activity is measured at {left}, after the injection at {right}: are"
                " both times right?"
            ),
        ),
        compare(
            "RESIDUAL_AFTER_INJECTION",
            "INJTIM",
            "<=",
            "ACTRESTM",
            message=(
                "The residual activity is measured at {right}, before the injection at {left}: are"
                " both times right?"
            ),
            at="ACTRESTM",
        ),
    ]
    for prefix, label in PET_ORGANS:
        checks.append(
            compare(
                f"{prefix}_SUVMEAN_LE_SUVMAX",
                f"{prefix}SUVMEAN",
                "<=",
                f"{prefix}SUVMAX",
                message=f"{label}: SUVmean ({{left}}) cannot exceed SUVmax ({{right}}).",
                severity=Severity.REJECT,
            )
        )
    checks += _lesion_checks("", "IDX", own("IDX"), own("EXH"), iv("IDX"))
    checks += _lesion_checks("X", "EXH", own("EXH"), own("IDX"), iv("EXH"))
    if visit is not None:  # the PET is the visit
        checks.append(
            on_visit_date(
                "PETDAT",
                (
                    "The PET/CT date ({left}) is not the date of this visit ({right}): which is"
                    " right?"
                ),
            )
        )
    else:  # a follow-up PET counts for the visit whose window it lies in
        checks.append(
            in_visit_window(
                "PETDAT",
                (
                    "The PET/CT ({value}) lies outside the window of this visit ({low} to {high}):"
                    " is the date right?"
                ),
            )
        )
    if visit == "PETIV":
        checks.append(
            compare(
                "AFTER_CONSENT",
                "PETDAT",
                ">=",
                "SCR.IC.ICDAT",
                message=(
                    "The PET-IV ({left}) is before the informed consent ({right}): is the date"
                    " right?"
                ),
            )
        )
    if iah:
        checks += [rule.check("PETIV") for rule in pp.PET_PAIR_RULES]
        checks += [
            check(
                f"{group}_ALL_ON_PETIAH",
                "NPAIRED",
                pp.missing_on_tested,
                f"{visit}.{oid}.{group}[]",
                f"PETIV.PETIV.{group}[]",
                constants=(f"{p}LESID",),
            )
            for group, p, _ in _LESION_TABLES
        ]
        checks.append(
            compare(
                "PETIAH_AFTER_PETIV",
                "PETDAT",
                ">",
                "PETIV.PETIV.PETDAT",
                message=(
                    "The PET after IAH injection ({left}) is not after the PET after IV injection"
                    " ({right}): are the dates right?"
                ),
            )
        )
    return Form(oid, name, tuple(groups), derivations=tuple(derivations), checks=tuple(checks))


PETIV = pet_form(
    "PETIV", "68Ga-DOTA-peptide PET/CT after intravenous injection", "PETIV", iah=False
)
PETIAH = pet_form(
    "PETIAH",
    "68Ga-DOTA-peptide PET/CT after intra-arterial hepatic injection",
    "PETIAH",
    iah=True,
)
PETFU = pet_form(
    "PETFU", "68Ga-DOTA-peptide PET/CT, response (IV)", None, iah=False, follow_up=True
)


# --- hepatic arteriography ---------------------------------------------------------------

ANGIO = Form(
    "ANGIO",
    "Hepatic arteriography (IAH procedure)",
    (
        ItemGroup(
            "ANGIO",
            "Arteriography",
            (
                day("PRDAT", "Date", required=True, cdash="PRSTDAT", sdtm="PR.PRSTDTC"),
                choice("ACCESS", "Arterial access", "ACCESS", required=True, sdtm="PR.PRLOC"),
                choice("ANATOMY", "Hepatic arterial anatomy", "ANATOMY", required=True),
                text("VARIANT", "Variant: describe", **shown(When("ANATOMY", "eq", "VARIANT"))),
                choice(
                    "CATHPOS", "Catheter tip position for the injection", "ARTERY", required=True
                ),
                yes_no(
                    "EMBOL",
                    "Extra-hepatic artery (e.g. gastroduodenal) coil-embolised",
                    required=True,
                ),
                yes_no("EXTRAFLOW", "Extra-hepatic (non-target) flow seen", required=True),
                integer("CONTRAST", "Contrast medium", "mL", hard=(0, 500)),
                decimal("FLUORO", "Fluoroscopy time", "min", precision=1, hard=(0, 300)),
                decimal("DAP", "Dose-area product", "Gy.cm2", precision=1, hard=(0, 2000)),
                yes_no("COMPL", "Procedure complication", required=True),
                text(
                    "COMPLDESC",
                    "Complication: describe (and record it as an adverse event)",
                    **shown(When("COMPL", "eq", "Y")),
                ),
            ),
            domain="PR",
        ),
    ),
    checks=(
        compare(
            "SAME_DAY_AS_PET",
            "PRDAT",
            "==",
            "PETIAH.PETIAH.PETDAT",
            message=(
                "The arteriography ({left}) and the PET after IAH injection ({right}) are not on"
                " the same day (D0): which date is right?"
            ),
        ),
    ),
)
