"""The SDTM datasets this extract writes: their variables, labels, types, origins and code
lists (SDTMIG v3.4 labels), the one source of truth for every output and the define.

Names are at most 8 characters and labels at most 40 (SAS transport v5); a test holds
every entry to it.
"""

from __future__ import annotations

from dataclasses import dataclass

CHAR, NUM = "Char", "Num"

#: Where a value comes from (define "Origin").
CRF, DERIVED, ASSIGNED, PROTOCOL = "CRF", "Derived", "Assigned", "Protocol"


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str = CHAR
    origin: str = CRF
    #: CDISC CT codelist (code and name) or the study's code list it is decoded from.
    codelist: str = ""
    #: How the value is obtained, for the define (source item or rule).
    source: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    structure: str
    variables: tuple[Variable, ...]
    #: Variables that sort the records (before --SEQ is assigned) and identify them.
    keys: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)


def _v(
    name: str, label: str, type: str = CHAR, origin: str = CRF, codelist: str = "", source: str = ""
) -> Variable:
    return Variable(name, label, type, origin, codelist, source)


def _common(domain: str) -> tuple[Variable, ...]:
    return (
        _v("STUDYID", "Study Identifier", origin=ASSIGNED, source="Study OID"),
        _v("DOMAIN", "Domain Abbreviation", origin=ASSIGNED, source=f'"{domain}"'),
        _v("USUBJID", "Unique Subject Identifier", origin=DERIVED, source="STUDYID-SITE-NNN"),
        _v(f"{domain}SEQ", "Sequence Number", NUM, DERIVED, source="Order within subject"),
    )


def _visit() -> tuple[Variable, ...]:
    return (
        _v("VISITNUM", "Visit Number", NUM, ASSIGNED, source="Order of the visit in the schedule"),
        _v("VISIT", "Visit Name", origin=ASSIGNED, source="Visit of the form"),
    )


def _dy(domain: str, what: str = "") -> Variable:
    name = f"{domain}{what}DY"
    label = {
        "": "Study Day of Visit/Collection/Exam",
        "ST": "Study Day of Start",
        "EN": "Study Day of End",
    }[what]
    return _v(name, label, NUM, DERIVED, source="Days from RFSTDTC (day 1 = RFSTDTC)")


NY = "C66742 NY"
ROUTE = "C66729 ROUTE"

DM = Dataset(
    "DM",
    "Demographics",
    "One record per subject",
    (
        _v("STUDYID", "Study Identifier", origin=ASSIGNED),
        _v("DOMAIN", "Domain Abbreviation", origin=ASSIGNED),
        _v("USUBJID", "Unique Subject Identifier", origin=DERIVED, source="STUDYID-SITE-NNN"),
        _v("SUBJID", "Subject Identifier for the Study", origin=ASSIGNED, source="SITE-NNN"),
        _v(
            "RFSTDTC",
            "Subject Reference Start Date/Time",
            origin=DERIVED,
            source="D0: 68Ga IAH injection (PETIAH.PET.PETDAT + INJTIM)",
        ),
        _v("RFENDTC", "Subject Reference End Date/Time", origin=DERIVED, source="LOGS.EOS.EOSDAT"),
        _v(
            "RFXSTDTC",
            "Date/Time of First Study Treatment",
            origin=DERIVED,
            source="THER.LUADM (177Lu IAH)",
        ),
        _v(
            "RFXENDTC",
            "Date/Time of Last Study Treatment",
            origin=DERIVED,
            source="THER.LUADM (177Lu IAH)",
        ),
        _v("RFICDTC", "Date/Time of Informed Consent", source="SCR.IC.ICDAT"),
        _v("DTHDTC", "Date/Time of Death", source="LOGS.DD.DTHDAT"),
        _v(
            "DTHFL",
            "Subject Death Flag",
            origin=DERIVED,
            codelist=NY,
            source="Y when a death is recorded",
        ),
        _v("SITEID", "Study Site Identifier", origin=ASSIGNED),
        _v("BRTHDTC", "Date/Time of Birth", source="SCR.DM.BRTHYM (month and year)"),
        _v("AGE", "Age", NUM, DERIVED, source="SCR.DM.AGE (at consent)"),
        _v("AGEU", "Age Units", origin=ASSIGNED, codelist="C66781 AGEU"),
        _v("SEX", "Sex", codelist="C66731 SEX", source="SCR.DM.SEX"),
        _v(
            "ARMCD",
            "Planned Arm Code",
            origin=DERIVED,
            source="SCR.IC.THERAPY; SCRNFAIL for a screen failure",
        ),
        _v("ARM", "Description of Planned Arm", origin=DERIVED),
        _v(
            "ACTARMCD",
            "Actual Arm Code",
            origin=DERIVED,
            source="Procedures done (PET-IAH, 177Lu IAH)",
        ),
        _v("ACTARM", "Description of Actual Arm", origin=DERIVED),
        _v("COUNTRY", "Country", origin=ASSIGNED, codelist="ISO 3166-1 alpha-3"),
    ),
    ("USUBJID",),
)

IE = Dataset(
    "IE",
    "Inclusion/Exclusion Criteria Not Met",
    "One record per inclusion/exclusion criterion not met per subject",
    (
        *_common("IE"),
        _v("IETESTCD", "Incl/Excl Criterion Short Name", source="Criterion id (SCR.IE)"),
        _v("IETEST", "Inclusion/Exclusion Criterion", origin=PROTOCOL, source="Criterion text"),
        _v("IECAT", "Inclusion/Exclusion Category", codelist="C66797 IECAT"),
        _v(
            "IEORRES",
            "I/E Criterion Original Result",
            codelist=NY,
            source="SCR.IE checklist answer",
        ),
        _v("IESTRESC", "I/E Criterion Result in Std Format", codelist=NY),
        *_visit(),
        _v("IEDTC", "Date/Time of Collection", source="SCR.IE.IEDAT"),
        _dy("IE"),
    ),
    ("USUBJID", "IECAT", "IETESTCD"),
)

MH = Dataset(
    "MH",
    "Medical History",
    "One record per medical history event per subject",
    (
        *_common("MH"),
        _v(
            "MHTERM",
            "Reported Term for the Medical History",
            source="SCR.MH.MHTERM (free text); PRIMARY DIAGNOSIS; HEPAT pre-specified",
        ),
        _v("MHCAT", "Category for Medical History", origin=ASSIGNED),
        _v("MHPRESP", "Medical History Event Pre-Specified", origin=ASSIGNED, codelist=NY),
        _v("MHOCCUR", "Medical History Occurrence", codelist=NY, source="SCR.HEPAT.CI answers"),
        _v("MHLOC", "Location of Medical History Event", source="SCR.NETHX.PRIMSITE"),
        *_visit(),
        _v(
            "MHSTDTC",
            "Start Date/Time of Medical History Event",
            source="MHSTDAT, DIAGDAT (partial as entered)",
        ),
        _v("MHENDTC", "End Date/Time of Medical History Event", source="MHENDAT"),
        _v(
            "MHENRTPT",
            "End Relative to Reference Time Point",
            codelist="C66728 STENRF",
            source="MHONGO = Y",
        ),
        _v("MHENTPT", "End Reference Time Point", origin=ASSIGNED),
    ),
    ("USUBJID", "MHCAT", "MHSTDTC", "MHTERM"),
)

CM = Dataset(
    "CM",
    "Concomitant/Prior Medications",
    "One record per medication intervention per subject",
    (
        *_common("CM"),
        _v("CMSPID", "Sponsor-Defined Identifier", origin=ASSIGNED, source="Form and row"),
        _v(
            "CMTRT",
            "Reported Name of Drug, Med, or Therapy",
            source="LOGS.CM.CMTRT (free text); SCR.PRTX.SSATRT",
        ),
        _v("CMCAT", "Category for Medication", origin=ASSIGNED),
        _v("CMINDC", "Indication", source="LOGS.CM.CMINDC (free text)"),
        _v("CMDOSE", "Dose per Administration", NUM, source="SCR.PRTX.SSADOSE"),
        _v("CMDOSTXT", "Dose Description", source="LOGS.CM.CMDSTXT (free text)"),
        _v("CMDOSU", "Dose Units", source="LOGS.CM.CMDOSU (free text); mg"),
        _v("CMDOSFRQ", "Dosing Frequency per Interval", source="LOGS.CM.CMDOSFRQ (free text)"),
        _v("CMROUTE", "Route of Administration", codelist=ROUTE, source="LOGS.CM.CMROUTE"),
        _v("CMSTDTC", "Start Date/Time of Medication", source="CMSTDAT, SSASTDAT"),
        _v("CMENDTC", "End Date/Time of Medication", source="CMENDAT, SSAENDAT"),
        _dy("CM", "ST"),
        _dy("CM", "EN"),
        _v(
            "CMENRTPT",
            "End Relative to Reference Time Point",
            codelist="C66728 STENRF",
            source="CMONGO, SSAONGO = Y",
        ),
        _v("CMENTPT", "End Reference Time Point", origin=ASSIGNED),
    ),
    ("USUBJID", "CMSTDTC", "CMSPID"),
)

EX = Dataset(
    "EX",
    "Exposure",
    "One record per administration per subject",
    (
        *_common("EX"),
        _v("EXSPID", "Sponsor-Defined Identifier", source="Cycle number (5 = IAH cycle)"),
        _v("EXTRT", "Name of Treatment", origin=ASSIGNED),
        _v("EXCAT", "Category of Treatment", origin=ASSIGNED),
        _v("EXDOSE", "Dose", NUM, source="SCR.PRTX.EXDOSE; THER.LUADM.ADMACT (derived)"),
        _v("EXDOSU", "Dose Units", origin=ASSIGNED, codelist="C71620 UNIT"),
        _v("EXDOSFRM", "Dose Form", origin=ASSIGNED, codelist="C66726 FRM"),
        _v("EXROUTE", "Route of Administration", origin=ASSIGNED, codelist=ROUTE),
        _v("EXLOC", "Location of Dose Administration", source="THER.LUADM.ARTERY"),
        *_visit(),
        _v("EXSTDTC", "Start Date/Time of Treatment", source="EXSTDAT (+ EXSTTIM)"),
        _v("EXENDTC", "End Date/Time of Treatment", source="EXSTDAT (+ EXENTIM)"),
        _dy("EX", "ST"),
        _dy("EX", "EN"),
    ),
    ("USUBJID", "EXSTDTC", "EXSPID"),
)

AE = Dataset(
    "AE",
    "Adverse Events",
    "One record per adverse event per subject",
    (
        *_common("AE"),
        _v("AESPID", "Sponsor-Defined Identifier", source="LOGS.AE.AESPID"),
        _v("AETERM", "Reported Term for the Adverse Event", source="LOGS.AE.AETERM (free text)"),
        _v(
            "AELLT",
            "Lowest Level Term",
            codelist="CTCAE v5.0 (MedDRA)",
            source="LOGS.AE.AELLTCD: the CTCAE v5.0 term",
        ),
        _v("AELLTCD", "Lowest Level Term Code", NUM, source="LOGS.AE.AELLTCD (MedDRA LLT code)"),
        _v(
            "AEDECOD",
            "Dictionary-Derived Term",
            codelist="CTCAE v5.0 (MedDRA)",
            source="LOGS.AE.AELLTCD: the CTCAE v5.0 term",
        ),
        _v(
            "AEBODSYS",
            "Body System or Organ Class",
            codelist="CTCAE v5.0 (MedDRA)",
            source="LOGS.AE.AELLTCD: the term's system organ class",
        ),
        _v(
            "AESOC",
            "Primary System Organ Class",
            codelist="CTCAE v5.0 (MedDRA)",
            source="LOGS.AE.AELLTCD: the term's system organ class",
        ),
        _v(
            "AETOXGR",
            "Standard Toxicity Grade",
            codelist="CTCAE v5.0 grade 1-5",
            source="LOGS.AE.AETOXGR",
        ),
        _v("AESER", "Serious Event", codelist=NY, source="LOGS.AE.AESER"),
        _v("AESDTH", "Results in Death", codelist=NY),
        _v("AESLIFE", "Is Life Threatening", codelist=NY),
        _v("AESHOSP", "Requires or Prolongs Hospitalization", codelist=NY),
        _v("AESDISAB", "Persist or Signif Disability/Incapacity", codelist=NY),
        _v("AESCONG", "Congenital Anomaly or Birth Defect", codelist=NY),
        _v("AESMIE", "Other Medically Important Serious Event", codelist=NY),
        _v(
            "AEREL",
            "Causality",
            codelist="AEREL (sponsor)",
            source="LOGS.AE.AEREL: 177Lu-dotatate by IAH",
        ),
        _v("AECONTRT", "Concomitant or Additional Trtmnt Given", codelist=NY),
        _v("AEOUT", "Outcome of Adverse Event", codelist="C66768 OUT"),
        _v("AESTDTC", "Start Date/Time of Adverse Event", source="AESTDAT (partial as entered)"),
        _v("AEENDTC", "End Date/Time of Adverse Event", source="AEENDAT (partial as entered)"),
        _dy("AE", "ST"),
        _dy("AE", "EN"),
        _v(
            "AEENRTPT",
            "End Relative to Reference Time Point",
            codelist="C66728 STENRF",
            source="AEONGO = Y",
        ),
        _v("AEENTPT", "End Reference Time Point", origin=ASSIGNED),
    ),
    ("USUBJID", "AESTDTC", "AESPID"),
)

LB = Dataset(
    "LB",
    "Laboratory Test Results",
    "One record per lab test per visit per subject",
    (
        *_common("LB"),
        _v(
            "LBTESTCD",
            "Lab Test or Examination Short Name",
            origin=ASSIGNED,
            codelist="C65047 LBTESTCD",
        ),
        _v("LBTEST", "Lab Test or Examination Name", origin=ASSIGNED, codelist="C67154 LBTEST"),
        _v("LBCAT", "Category for Lab Test", origin=ASSIGNED),
        _v(
            "LBORRES",
            "Result or Finding in Original Units",
            source="Item annotated LB.LBORRES[test]",
        ),
        _v(
            "LBORRESU",
            "Original Units",
            codelist="C71620 UNIT",
            source="Item units or LB.LBORRESU[test]",
        ),
        _v(
            "LBORNRLO",
            "Reference Range Lower Limit in Orig Unit",
            source="LB.LBORNRLO[test] (site limit)",
        ),
        _v(
            "LBORNRHI",
            "Reference Range Upper Limit in Orig Unit",
            source="LB.LBORNRHI[test] (site limit)",
        ),
        _v("LBSTRESC", "Character Result/Finding in Std Format", origin=DERIVED),
        _v(
            "LBSTRESN",
            "Numeric Result/Finding in Standard Units",
            NUM,
            DERIVED,
            source="LBORRES × unit factor",
        ),
        _v("LBSTRESU", "Standard Units", origin=ASSIGNED, codelist="C71620 UNIT"),
        _v(
            "LBNRIND",
            "Reference Range Indicator",
            origin=DERIVED,
            codelist="C78736 NRIND",
            source="LBORRES against LBORNRLO/LBORNRHI",
        ),
        _v("LBSTAT", "Completion Status", codelist="C66789 ND", source="Missing code ND"),
        _v("LBNAM", "Vendor Name", source="Item annotated LB.LBNAM (the site's laboratory)"),
        _v("LBSPEC", "Specimen Type", origin=ASSIGNED, codelist="C78734 SPECTYPE"),
        _v(
            "LBTOXGR",
            "Standard Toxicity Grade",
            origin=DERIVED,
            codelist="CTCAE v5.0 grade 0-4",
            source="LB.LBTOXGR[test] (derived in the CRF)",
        ),
        *_visit(),
        _v("LBDTC", "Date/Time of Specimen Collection", source="LBDAT (+ LBTIM), PREGDAT"),
        _dy("LB"),
    ),
    ("USUBJID", "LBDTC", "VISITNUM", "LBCAT", "LBTESTCD"),
)

VS = Dataset(
    "VS",
    "Vital Signs",
    "One record per vital sign measurement per visit per subject",
    (
        *_common("VS"),
        _v("VSTESTCD", "Vital Signs Test Short Name", origin=ASSIGNED, codelist="C66741 VSTESTCD"),
        _v("VSTEST", "Vital Signs Test Name", origin=ASSIGNED, codelist="C67153 VSTEST"),
        _v(
            "VSORRES",
            "Result or Finding in Original Units",
            source="Item annotated VS.VSORRES[test]",
        ),
        _v("VSORRESU", "Original Units", codelist="C66770 VSRESU"),
        _v("VSSTRESC", "Character Result/Finding in Std Format", origin=DERIVED),
        _v("VSSTRESN", "Numeric Result/Finding in Standard Units", NUM, DERIVED),
        _v("VSSTRESU", "Standard Units", origin=ASSIGNED, codelist="C66770 VSRESU"),
        _v("VSSTAT", "Completion Status", codelist="C66789 ND", source="Missing code ND"),
        *_visit(),
        _v("VSDTC", "Date/Time of Measurements", source="VSDAT"),
        _dy("VS"),
    ),
    ("USUBJID", "VSDTC", "VISITNUM", "VSTESTCD"),
)

TU = Dataset(
    "TU",
    "Tumor/Lesion Identification",
    "One record per identified lesion per subject",
    (
        *_common("TU"),
        _v("TUGRPID", "Group ID", origin=ASSIGNED, source="Form that first identified the lesion"),
        _v("TULNKID", "Link ID", source="Lesion identifier (LESID, NTLID, XLESID)"),
        _v("TUTESTCD", "Tumor/Lesion ID Short Name", origin=ASSIGNED, codelist="C96784 TUTESTCD"),
        _v("TUTEST", "Tumor/Lesion ID Test Name", origin=ASSIGNED, codelist="C96783 TUTEST"),
        _v(
            "TUORRES",
            "Tumor/Lesion ID Result",
            source="TARGET, NON-TARGET (RECIST 1.1); PET INDEX LESION, PET LESION (sponsor terms)",
        ),
        _v("TUSTRESC", "Tumor/Lesion ID Result Std. Format", codelist="C123650 TUIDRS (extended)"),
        _v(
            "TULOC",
            "Location of the Tumor/Lesion",
            codelist="C74456 LOC",
            source="ORGAN, NTLORGAN, XSITE; LIVER for PET index lesions",
        ),
        _v(
            "TUMETHOD",
            "Method of Identification",
            codelist="C85492 METHOD",
            source="METHOD; PET/CT SCAN",
        ),
        _v("TUEVAL", "Evaluator", origin=ASSIGNED, codelist="C78735 EVAL"),
        *_visit(),
        _v(
            "TUDTC",
            "Date/Time of Tumor/Lesion Identification",
            source="TUBL.IMG.CTDAT or MRIDAT; PETDAT",
        ),
        _dy("TU"),
    ),
    ("USUBJID", "TULNKID"),
)

TR = Dataset(
    "TR",
    "Tumor/Lesion Results",
    "One record per lesion measurement per visit per subject",
    (
        *_common("TR"),
        _v(
            "TRGRPID",
            "Group ID",
            origin=ASSIGNED,
            source="RECIST; 68GA PET IV or 68GA PET IAH (route of the tracer)",
        ),
        _v("TRLNKID", "Link ID", source="Lesion identifier (= TU.TULNKID)"),
        _v(
            "TRLNKGRP",
            "Link Group ID",
            origin=DERIVED,
            source="Visit of the RECIST assessment (= RS.RSLNKGRP)",
        ),
        _v(
            "TRTESTCD",
            "Tumor/Lesion Assessment Short Name",
            origin=ASSIGNED,
            codelist="C96779 TRTESTCD (extended: SUVMAX, SUVMEAN, SUVPEAK, TLRATIO, VOLUME)",
        ),
        _v(
            "TRTEST",
            "Tumor/Lesion Assessment Test Name",
            origin=ASSIGNED,
            codelist="C96778 TRTEST (extended)",
        ),
        _v(
            "TRORRES",
            "Result or Finding in Original Units",
            source="Items annotated TR.TRORRES[test]",
        ),
        _v("TRORRESU", "Original Units", codelist="C71620 UNIT"),
        _v("TRSTRESC", "Character Result/Finding in Std Format", origin=DERIVED),
        _v("TRSTRESN", "Numeric Result/Finding in Standard Units", NUM, DERIVED),
        _v("TRSTRESU", "Standard Units", codelist="C71620 UNIT"),
        _v("TRMETHOD", "Method Used to Identify the Tumor/Lesion", codelist="C85492 METHOD"),
        _v("TREVAL", "Evaluator", origin=ASSIGNED, codelist="C78735 EVAL"),
        *_visit(),
        _v("TRDTC", "Date/Time of Tumor/Lesion Measurement", source="CTDAT/MRIDAT, TRDAT, PETDAT"),
        _dy("TR"),
    ),
    ("USUBJID", "TRDTC", "VISITNUM", "TRGRPID", "TRLNKID", "TRTESTCD"),
)

RS = Dataset(
    "RS",
    "Disease Response and Clin Classification",
    "One record per response assessment per visit per subject",
    (
        *_common("RS"),
        _v(
            "RSLNKGRP",
            "Link Group ID",
            origin=DERIVED,
            source="Visit of the assessment (= TR.TRLNKGRP)",
        ),
        _v("RSTESTCD", "Assessment Short Name", origin=ASSIGNED, codelist="C96782 RSTESTCD"),
        _v("RSTEST", "Assessment Name", origin=ASSIGNED, codelist="C96781 RSTEST"),
        _v("RSCAT", "Category for Assessment", origin=ASSIGNED, codelist="C118971 RSCAT"),
        _v(
            "RSORRES",
            "Result or Finding in Original Units",
            source="TRM3/TRM6 RESP (derived in the CRF), NEWLES",
        ),
        _v("RSSTRESC", "Character Result/Finding in Std Format", codelist="C96785 RSRESP"),
        _v("RSEVAL", "Evaluator", origin=ASSIGNED, codelist="C78735 EVAL"),
        *_visit(),
        _v("RSDTC", "Date/Time of Assessment", source="TRDAT"),
        _dy("RS"),
    ),
    ("USUBJID", "RSDTC", "VISITNUM", "RSTESTCD"),
)

SUPP_VARIABLES = (
    _v("STUDYID", "Study Identifier", origin=ASSIGNED),
    _v("RDOMAIN", "Related Domain Abbreviation", origin=ASSIGNED),
    _v("USUBJID", "Unique Subject Identifier", origin=DERIVED),
    _v("IDVAR", "Identifying Variable", origin=ASSIGNED),
    _v("IDVARVAL", "Identifying Variable Value", origin=DERIVED),
    _v("QNAM", "Qualifier Variable Name", origin=ASSIGNED),
    _v("QLABEL", "Qualifier Variable Label", origin=ASSIGNED),
    _v("QVAL", "Data Value", source="See the qualifier"),
    _v("QORIG", "Origin", origin=ASSIGNED),
)


def supp(domain: str) -> Dataset:
    """The supplemental qualifiers dataset of ``domain`` (SUPPAE, SUPPTR)."""
    return Dataset(
        f"SUPP{domain}",
        f"Supplemental Qualifiers for {domain}",
        "One record per supplemental qualifier per parent record",
        SUPP_VARIABLES,
        ("USUBJID", "IDVARVAL", "QNAM"),
    )


#: Non-standard qualifiers moved to SUPP--: domain → (variable, label, origin). They are
#: written as columns of the parent records by the mappers, then split off here.
SUPPLEMENTAL: dict[str, tuple[tuple[str, str, str], ...]] = {
    "AE": (("AERELPR", "Relationship to the IAH Procedure", CRF),),
    # The route of the 68Ga injection the uptake was measured after (IV or IAH).
    "TR": (("TRROUTE", "Route of Tracer Administration", ASSIGNED),),
}

#: Datasets in the order they are written (DM first: it gives every subject's RFSTDTC).
DATASETS: tuple[Dataset, ...] = (DM, IE, MH, CM, EX, AE, LB, VS, TU, TR, RS)
