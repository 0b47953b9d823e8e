"""What leaves the system: extracts of the captured data (CSV, CDISC ODM, SDTM, audit)."""
