"""Data locks: a form, a visit, a subject, a site or the whole study (database freeze)."""
