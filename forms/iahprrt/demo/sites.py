"""What differs between the demo sites: their local laboratories (units and normal
limits) and their PET scanners."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

#: Local laboratories: name, units and normal limits (creatinine ULN by sex); their
#: registries (:mod:`.laboratories`) are built from these figures. Values and limits
#: are given in the standard units (creatinine in the laboratory's ``CREATU``); "UNITS"
#: names the other units a laboratory reports in, which the values are entered in.
LABS: dict[str, dict[str, Any]] = {
    "BDX": {
        "NAME": "CHU Bordeaux – Laboratoire de biologie",
        "CREATU": "umol/L",
        "CREATULN": {"M": Decimal(106), "F": Decimal(90)},
        "ULN": {"ALT": 41, "AST": 40, "BILI": Decimal("17.0"), "ALP": 130, "GGT": 55},
        "LLN": {"WBC": 4000, "NEUT": 1800, "LYM": 1000, "PLAT": 150000},
        "HGBLLN": {"M": Decimal("13.0"), "F": Decimal("12.0")},
        "ALBLLN": Decimal("3.5"),
        "CGAULN": 100,
        "PTULN": Decimal("13.0"),
        "SCANNER": "Siemens Biograph Vision 600",
        # French units: cell counts in G/L, haemoglobin and albumin in g/L.
        "UNITS": {
            "HGB": "g/L",
            "WBC": "10*9/L",
            "NEUT": "10*9/L",
            "LYM": "10*9/L",
            "PLAT": "10*9/L",
            "ALB": "g/L",
        },
    },
    "TLS": {
        "NAME": "CHU Toulouse – Institut fédératif de biologie",
        "CREATU": "umol/L",
        "CREATULN": {"M": Decimal(104), "F": Decimal(84)},
        "ULN": {"ALT": 35, "AST": 35, "BILI": Decimal("21.0"), "ALP": 120, "GGT": 60},
        "LLN": {"WBC": 4000, "NEUT": 1500, "LYM": 1000, "PLAT": 150000},
        "HGBLLN": {"M": Decimal("13.5"), "F": Decimal("12.0")},
        "ALBLLN": Decimal("3.5"),
        "CGAULN": 98,
        "PTULN": Decimal("13.5"),
        "SCANNER": "GE Discovery MI",
        # Cell counts per mm³ and haemoglobin in g/dL (as some laboratories still print
        # them), albumin in g/L.
        "UNITS": {"ALB": "g/L"},
    },
    "NTE": {
        "NAME": "CHU Nantes – Laboratoire de biochimie",
        "CREATU": "mg/dL",
        "CREATULN": {"M": Decimal("1.20"), "F": Decimal("1.00")},
        "ULN": {"ALT": 40, "AST": 40, "BILI": Decimal("20.5"), "ALP": 125, "GGT": 50},
        "LLN": {"WBC": 4000, "NEUT": 1800, "LYM": 1200, "PLAT": 150000},
        "HGBLLN": {"M": Decimal("13.0"), "F": Decimal("11.5")},
        "ALBLLN": Decimal("3.5"),
        "CGAULN": 100,
        "PTULN": Decimal("12.8"),
        "SCANNER": "Philips Vereos Digital PET/CT",
        # French units, but creatinine in mg/dL: converted on the way in.
        "UNITS": {
            "HGB": "g/L",
            "WBC": "10*9/L",
            "NEUT": "10*9/L",
            "LYM": "10*9/L",
            "PLAT": "10*9/L",
            "ALB": "g/L",
        },
    },
}
LABS["*"] = LABS["BDX"]
