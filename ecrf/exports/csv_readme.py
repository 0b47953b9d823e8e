"""The README.txt shipped inside every CSV bundle (the conventions a statistician needs)."""

README_FILE = "README.txt"

README_TEXT = """\
{study} — tidy CSV extract
Definition version {version}; written {generated_at} (UTC) by {generated_by}.
Sites: {sites}. Free-text items: {free_text}.

FILES
- FORM.csv: one file per form for its non-repeating item groups, one row per
  subject x visit x visit repeat (keys STUDYID SITEID SUBJID VISIT VISITREP).
- FORM_GROUP.csv: one file per repeating item group (lesions, cycles, adverse events,
  medications...), one row per group row (keys as above plus REPEAT). A form whose only
  group repeats (AE, CM, SAE, DV) is simply FORM.csv.
- long.csv: every stored value once, one row per value (keys, GROUP, REPEAT, ITEM, VALUE,
  MISSING, DERIVED), for tools that prefer a long layout.
- dictionary.csv: one row per column of every file (FILE, COLUMN): label, type, units,
  code list with its decodes, hard and soft ranges, CDASH and SDTM names, whether the
  value is derived or entered, whether the item is free text, and whether it was withheld
  from this extract (WITHHELD=Y rows name the columns that are absent).
- manifest.json: time, author, definition version, site scope, rows and SHA-256 of every
  file, and the audit-trail checkpoint (sequence and hash) the extract was read at.

COLUMNS
Key columns come first: STUDYID, SITEID, SUBJID, VISIT (visit OID), VISITREP (visit
repeat, 1 unless the visit repeats), VISITDAT (visit date), FORM, FORMSTAT (entry status),
DEFVER (definition version the form was entered against), then GROUP and REPEAT in the
files of repeating groups. Then one column per item, named by its OID, in the order of the
form's definition.

VALUES
- Codes, not labels: the decodes are in dictionary.csv (CODELIST, DECODES). Yes/no items
  hold Y or N. Multiple-choice items hold their codes separated by one space.
- Dates are ISO 8601 (YYYY-MM-DD); partial dates are kept as entered (YYYY-MM or YYYY);
  times are HH:MM. Decimals keep the digits entered.
- Missing data: the value column is left empty and the companion column ITEM_MISS holds
  the code (NA not applicable, ND not done, UNK unknown, NASK not asked). Numeric columns
  therefore stay numeric. An empty value with an empty ITEM_MISS was not entered.
- Derived values (computed by the system, e.g. age, BMI, toxicity grades) are included;
  dictionary.csv says ORIGIN=derived, and long.csv says DERIVED=Y.
- Only forms with data have rows; removed rows are left out.

LOADING
Only an empty cell means "no value". pandas and R read the text "NA" as missing by
default, which would lose the "not applicable" code: tell them that only empty cells are
missing (numeric columns stay numeric either way).
    import pandas as pd
    dm = pd.read_csv("DM.csv", keep_default_na=False, na_values=[""])
    ae = pd.read_csv("AE.csv", keep_default_na=False, na_values=[""])
    # R: read.csv("DM.csv", na.strings = "")

Files are UTF-8, comma separated, with a header line.
"""
