"""The sites' laboratories as data: what each reports, in which unit, with which normal
ranges (by sex, age band and period); read by the lab forms, maintained in the web UI."""
