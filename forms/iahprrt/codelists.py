"""Code lists of the IAH-PRRT case report forms.

Codes follow CDISC controlled terminology where a code list exists (SEX C66731, NY,
RECIST responses C96785, TUMIDENT, routes); the rest are sponsor-defined and say so.
Yes/No items use the language's built-in ``NY`` list.
"""

from __future__ import annotations

from forms.iahprrt.ctcae_terms import CTCAE
from forms.language import CodeList

SEX = CodeList("SEX", "Sex (CDISC C66731)", (("M", "Male"), ("F", "Female")))

AETOXGR = CodeList(
    "AETOXGR",
    "CTCAE v5.0 grade",
    (
        ("1", "Grade 1: mild"),
        ("2", "Grade 2: moderate"),
        ("3", "Grade 3: severe or medically significant"),
        ("4", "Grade 4: life-threatening"),
        ("5", "Grade 5: death related to the adverse event"),
    ),
)

ECOG = CodeList(
    "ECOG",
    "ECOG performance status",
    (
        ("0", "0: fully active, no restriction"),
        ("1", "1: restricted in strenuous activity, ambulatory, light work"),
        ("2", "2: ambulatory, self-care, no work; up > 50 % of waking hours"),
        ("3", "3: limited self-care; in bed or chair > 50 % of waking hours"),
        ("4", "4: completely disabled, no self-care, confined to bed or chair"),
    ),
)

PRIMSITE = CodeList(
    "PRIMSITE",
    "Primary tumour site",
    (
        ("PANCREAS", "Pancreas"),
        ("DUODENUM", "Duodenum"),
        ("STOMACH", "Stomach"),
        ("SMALLINT", "Jejunum / ileum (small intestine)"),
        ("APPENDIX", "Appendix"),
        ("COLON", "Colon"),
        ("RECTUM", "Rectum"),
        ("GEPUNK", "Gastro-entero-pancreatic, exact site not located"),
        ("OTHER", "Other, not gastro-entero-pancreatic"),
    ),
)
GEP_SITES = frozenset(
    {"PANCREAS", "DUODENUM", "STOMACH", "SMALLINT", "APPENDIX", "COLON", "RECTUM", "GEPUNK"}
)

DIFF = CodeList(
    "DIFF",
    "Differentiation",
    (("WELL", "Well differentiated (NET)"), ("POOR", "Poorly differentiated (NEC)")),
)

NETGRADE = CodeList(
    "NETGRADE",
    "WHO 2019 grade",
    (
        ("G1", "G1: Ki-67 < 3 %"),
        ("G2", "G2: Ki-67 3–20 %"),
        ("G3", "G3: Ki-67 > 20 %"),
    ),
)

HEPBURD = CodeList(
    "HEPBURD",
    "Hepatic tumour burden",
    (("LT25", "< 25 % of the liver"), ("25TO50", "25–50 %"), ("GT50", "> 50 %")),
)

METSITE = CodeList(
    "METSITE",
    "Extra-hepatic metastatic sites",
    (
        ("BONE", "Bone"),
        ("NODE", "Lymph nodes"),
        ("LUNG", "Lung"),
        ("PERITONEUM", "Peritoneum"),
        ("OTHER", "Other"),
    ),
)

LIVERTX = CodeList(
    "LIVERTX",
    "Prior liver-directed treatment",
    (
        ("RESECT", "Liver resection"),
        ("ABLATION", "Thermal ablation (RFA / microwave)"),
        ("TACE", "Chemo-embolisation (TACE)"),
        ("TAE", "Bland embolisation"),
        ("SIRT", "Radio-embolisation (SIRT)"),
    ),
)

SYSTX = CodeList(
    "SYSTX",
    "Prior systemic treatment other than SSA and LUTATHERA",
    (
        ("EVEROLIMUS", "Everolimus"),
        ("SUNITINIB", "Sunitinib"),
        ("CHEMO", "Chemotherapy (e.g. capecitabine-temozolomide, FOLFOX)"),
        ("INTERFERON", "Interferon alfa"),
        ("OTHER", "Other"),
    ),
)

#: Formulation of a cold somatostatin analogue: it sets the washout before a PET or 177Lu.
SSAACT = CodeList(
    "SSAACT",
    "Somatostatin analog formulation",
    (("LONG", "Long-acting (monthly depot)"), ("SHORT", "Short-acting (s.c. or i.v.)")),
)

SSADRUG = CodeList(
    "SSADRUG",
    "Somatostatin analog (cold)",
    (
        ("OCTLAR", "Octreotide LAR (long-acting)"),
        ("LANREO", "Lanreotide autogel"),
        ("OCTSC", "Octreotide s.c. (short-acting)"),
        ("OTHER", "Other"),
    ),
)

PREGRES = CodeList("PREGRES", "Pregnancy test result", (("NEG", "Negative"), ("POS", "Positive")))

PREGSPEC = CodeList("PREGSPEC", "Specimen", (("SERUM", "Serum β-hCG"), ("URINE", "Urine β-hCG")))

PREGPRE = CodeList(
    "PREGPRE",
    "Pregnancy test before administration",
    (
        ("NEG", "Negative"),
        ("POS", "Positive"),
        ("NA", "Not applicable: man, or woman not of childbearing potential"),
    ),
)

CONTRA = CodeList(
    "CONTRA",
    "Effective contraception",
    (
        ("Y", "Yes"),
        ("N", "No"),
        ("NA", "Not applicable: woman not of childbearing potential"),
    ),
)

CONTRAMETH = CodeList(
    "CONTRAMETH",
    "Contraception method",
    (
        ("HORMONAL", "Hormonal (pill, patch, ring, implant, injection)"),
        ("IUD", "Intra-uterine device"),
        ("CONDOM", "Condom"),
        ("STERIL", "Sterilisation of the patient or the partner"),
        ("ABST", "Sexual abstinence"),
        ("OTHER", "Other"),
    ),
)

LVEFMETH = CodeList(
    "LVEFMETH",
    "LVEF method",
    (
        ("ECHO", "Transthoracic echocardiography"),
        ("MUGA", "Radionuclide ventriculography (MUGA)"),
        ("CMR", "Cardiac MRI"),
    ),
)

ASCITES = CodeList(
    "ASCITES",
    "Ascites (Child-Pugh)",
    (
        ("NONE", "None"),
        ("MILD", "Mild, or controlled by diuretics"),
        ("MODSEV", "Moderate to severe, or refractory"),
    ),
)

HEPENC = CodeList(
    "HEPENC",
    "Hepatic encephalopathy (Child-Pugh)",
    (("NONE", "None"), ("G12", "Grade 1–2 (minimal)"), ("G34", "Grade 3–4 (advanced)")),
)

TRACER = CodeList(
    "TRACER",
    "68Ga-DOTA-peptide",
    (
        ("DOTATOC", "[68Ga]Ga-DOTATOC"),
        ("DOTATATE", "[68Ga]Ga-DOTATATE"),
        ("DOTANOC", "[68Ga]Ga-DOTANOC"),
    ),
)

ARTERY = CodeList(
    "ARTERY",
    "Hepatic artery injected",
    (
        ("CHA", "Common hepatic artery"),
        ("PHA", "Proper hepatic artery"),
        ("RHA", "Right hepatic artery"),
        ("LHA", "Left hepatic artery"),
        ("MHA", "Middle hepatic artery (segment IV)"),
        ("RRHA", "Replaced or accessory right hepatic artery"),
        ("RLHA", "Replaced or accessory left hepatic artery"),
        ("SPLIT", "Split injection into several arteries"),
        ("OTHER", "Other"),
    ),
)

ACCESS = CodeList(
    "ACCESS", "Arterial access", (("FEMORAL", "Common femoral artery"), ("RADIAL", "Radial artery"))
)

ANATOMY = CodeList(
    "ANATOMY",
    "Hepatic arterial anatomy",
    (("STANDARD", "Standard (Michels type I)"), ("VARIANT", "Variant")),
)

LIVSEG = CodeList(
    "LIVSEG",
    "Liver segment (Couinaud)",
    (
        ("S1", "Segment I (caudate)"),
        ("S2", "Segment II"),
        ("S3", "Segment III"),
        ("S4", "Segment IV"),
        ("S5", "Segment V"),
        ("S6", "Segment VI"),
        ("S7", "Segment VII"),
        ("S8", "Segment VIII"),
    ),
)

#: Organs as RECIST 1.1 counts them (all lymph nodes are one organ; both lungs are one).
ORGAN = CodeList(
    "ORGAN",
    "Organ (TULOC)",
    (
        ("LIVER", "Liver"),
        ("NODE", "Lymph node"),
        ("LUNG", "Lung"),
        ("PANCREAS", "Pancreas"),
        ("BOWEL", "Small or large bowel"),
        ("PERITONEUM", "Peritoneum / mesentery"),
        ("BONE", "Bone (lesion with a soft-tissue component)"),
        ("ADRENAL", "Adrenal gland"),
        ("OTHER", "Other"),
    ),
)

IMGMETH = CodeList("IMGMETH", "Imaging method (TUMETHOD)", (("CT", "CT scan"), ("MRI", "MRI")))

SEGMETH = CodeList(
    "SEGMETH",
    "SUVmean volume of interest",
    (
        ("ISO41", "Isocontour at 41 % of SUVmax"),
        ("ISO50", "Isocontour at 50 % of SUVmax"),
        ("OTHER", "Other (say which in the comment)"),
    ),
)

#: PET reconstruction (EARL: the EANM Research Ltd harmonised standards, which make SUVs
#: of different scanners comparable; the others are the vendors' usual algorithms).
RECON = CodeList(
    "RECON",
    "PET reconstruction",
    (
        ("EARL1", "EARL1-harmonised"),
        ("EARL2", "EARL2-harmonised"),
        ("OSEM", "OSEM (3D)"),
        ("OSEMTOF", "OSEM + time of flight"),
        ("OSEMTOFPSF", "OSEM + time of flight + PSF (resolution recovery)"),
        ("BSREM", "Bayesian penalised likelihood (e.g. Q.Clear)"),
        ("OTHER", "Other (describe in the parameters)"),
    ),
)

SUVNORM = CodeList(
    "SUVNORM",
    "SUV normalisation",
    (
        ("BW", "Body weight (SUVbw, g/mL)"),
        ("LBM", "Lean body mass (SUL)"),
        ("BSA", "Body surface area (SUVbsa)"),
    ),
)

NTLSTAT = CodeList(
    "NTLSTAT",
    "Non-target lesion status",
    (
        ("PRESENT", "Present (non-CR/non-PD)"),
        ("ABSENT", "Absent: disappeared; lymph node < 10 mm short axis"),
        ("PD", "Unequivocal progression"),
        ("NE", "Not evaluated"),
    ),
)

NEWLES = CodeList(
    "NEWLES",
    "New lesion",
    (("N", "No"), ("EQ", "Equivocal"), ("Y", "Yes, unequivocal")),
)

RECRESP = CodeList(
    "RECRESP",
    "RECIST 1.1 response (C96785)",
    (
        ("CR", "Complete response"),
        ("PR", "Partial response"),
        ("SD", "Stable disease"),
        ("PD", "Progressive disease"),
        ("NE", "Not evaluable"),
    ),
)

NTRESP = CodeList(
    "NTRESP",
    "RECIST 1.1 non-target response (C96785)",
    (
        ("CR", "Complete response"),
        ("NON-CR/NON-PD", "Non-CR / non-PD"),
        ("PD", "Progressive disease"),
        ("NE", "Not evaluable"),
        ("NA", "No non-target lesion at baseline"),
    ),
)

KRENNING = CodeList(
    "KRENNING",
    "Uptake in the liver lesions (Krenning scale)",
    (
        ("0", "0: no uptake"),
        ("1", "1: very low"),
        ("2", "2: less than or equal to normal liver"),
        ("3", "3: greater than normal liver"),
        ("4", "4: greater than spleen or kidneys"),
    ),
)

RENPROT = CodeList(
    "RENPROT",
    "Renal protection",
    (
        ("LYSARG", "Lysine 2.5 % + arginine 2.5 % (e.g. LysaKare®), 1 L"),
        ("AAMIX", "Other amino-acid solution"),
    ),
)

DOSMETH = CodeList(
    "DOSMETH",
    "Dosimetry method",
    (
        ("MTP", "Multiple time-point SPECT/CT"),
        ("STP", "Single time-point SPECT/CT"),
        ("HYBRID", "Hybrid planar + SPECT/CT"),
        ("OTHER", "Other"),
    ),
)

DOSORG = CodeList(
    "DOSORG",
    "Organ (dosimetry)",
    (
        ("KIDNEYS", "Kidneys (both)"),
        ("KIDL", "Left kidney"),
        ("KIDR", "Right kidney"),
        ("SPLEEN", "Spleen"),
        ("LIVER", "Healthy (non-tumoural) liver"),
        ("MARROW", "Red bone marrow"),
    ),
)

AEREL = CodeList(
    "AEREL",
    "Relationship (sponsor-defined)",
    (
        ("NOT", "Not related"),
        ("UNLIKELY", "Unlikely related"),
        ("POSSIBLE", "Possibly related"),
        ("PROBABLE", "Probably related"),
        ("RELATED", "Related"),
    ),
)

AEOUT = CodeList(
    "AEOUT",
    "Outcome (CDISC C66768)",
    (
        ("RECOVERED", "Recovered / resolved"),
        ("RECOVERING", "Recovering / resolving"),
        ("NOTRECOVERED", "Not recovered / not resolved"),
        ("SEQUELAE", "Recovered / resolved with sequelae"),
        ("FATAL", "Fatal"),
        ("UNKNOWN", "Unknown"),
    ),
)

#: The laboratory terms of CTCAE v5.0 this eCRF grades (standards/ctcae-v5-lab-grading.md).
LABTERM = CodeList(
    "LABTERM",
    "CTCAE v5.0 laboratory term",
    (
        ("ANEMIA", "Anemia"),
        ("NEUTDEC", "Neutrophil count decreased"),
        ("PLATDEC", "Platelet count decreased"),
        ("LYMDEC", "Lymphocyte count decreased"),
        ("WBCDEC", "White blood cell decreased"),
        ("ALTINC", "Alanine aminotransferase increased"),
        ("ASTINC", "Aspartate aminotransferase increased"),
        ("BILIINC", "Blood bilirubin increased"),
        ("ALPINC", "Alkaline phosphatase increased"),
        ("GGTINC", "GGT increased"),
        ("CREATINC", "Creatinine increased"),
        ("HYPOALB", "Hypoalbuminemia"),
    ),
)

SAETYPE = CodeList("SAETYPE", "Report", (("INITIAL", "Initial"), ("FOLLOWUP", "Follow-up")))

CMROUTE = CodeList(
    "CMROUTE",
    "Route (CDISC C66729 subset)",
    (
        ("ORAL", "Oral"),
        ("INTRAVENOUS", "Intravenous"),
        ("SUBCUTANEOUS", "Subcutaneous"),
        ("INTRAMUSCULAR", "Intramuscular"),
        ("TRANSDERMAL", "Transdermal"),
        ("INHALATION", "Inhalation"),
        ("OTHER", "Other"),
    ),
)

CALLMODE = CodeList(
    "CALLMODE", "Contact", (("PHONE", "Telephone call"), ("VISIT", "Consultation at the site"))
)

DVCAT = CodeList(
    "DVCAT",
    "Deviation category",
    (
        ("CONSENT", "Informed consent"),
        ("ELIGIBILITY", "Eligibility criteria"),
        ("WINDOW", "Visit outside its window"),
        ("ADMIN", "Tracer or 177Lu administration"),
        ("ASSESSMENT", "Assessment or procedure not done"),
        ("MEDICATION", "Prohibited medication"),
        ("OTHER", "Other"),
    ),
)

DVSEV = CodeList("DVSEV", "Deviation", (("MAJOR", "Major"), ("MINOR", "Minor")))

VISITS = CodeList(
    "VISITS",
    "Visit",
    (
        ("SCR", "Screening / inclusion"),
        ("PETIV", "68Ga PET after IV injection"),
        ("PETIAH", "68Ga PET after IAH injection (D0)"),
        ("CALL", "Safety call"),
        ("THER", "IAH 177Lu-dotatate (T0)"),
        ("W2", "Week 2"),
        ("W4", "Week 4"),
        ("W6", "Week 6"),
        ("W8", "Week 8"),
        ("M3", "Month 3"),
        ("M6", "Month 6"),
        ("UNS", "Unscheduled"),
        ("NONE", "Not tied to a visit"),
    ),
)

EOSSTAT = CodeList(
    "EOSSTAT",
    "End-of-study status (DSDECOD)",
    (
        ("COMPLETED", "Completed as planned (CALL for imaging only; M6 for the therapy sub-group)"),
        ("SCREENFAIL", "Screen failure"),
        ("WITHDRAWN", "Consent withdrawn"),
        ("AE", "Adverse event"),
        ("PROGRESSION", "Disease progression"),
        ("DEATH", "Death"),
        ("LOST", "Lost to follow-up"),
        ("INVESTIGATOR", "Investigator's decision"),
        ("OTHER", "Other"),
    ),
)

ALL_CODELISTS = (
    SEX,
    AETOXGR,
    ECOG,
    PRIMSITE,
    DIFF,
    NETGRADE,
    HEPBURD,
    METSITE,
    LIVERTX,
    SYSTX,
    SSADRUG,
    SSAACT,
    PREGRES,
    PREGSPEC,
    PREGPRE,
    CONTRA,
    CONTRAMETH,
    LVEFMETH,
    ASCITES,
    HEPENC,
    TRACER,
    ARTERY,
    ACCESS,
    ANATOMY,
    LIVSEG,
    ORGAN,
    IMGMETH,
    SEGMETH,
    RECON,
    SUVNORM,
    NTLSTAT,
    NEWLES,
    RECRESP,
    NTRESP,
    KRENNING,
    RENPROT,
    DOSMETH,
    DOSORG,
    AEREL,
    AEOUT,
    CTCAE,
    LABTERM,
    SAETYPE,
    CMROUTE,
    CALLMODE,
    DVCAT,
    DVSEV,
    VISITS,
    EOSSTAT,
)
