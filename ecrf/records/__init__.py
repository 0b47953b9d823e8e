"""The ODM chain, below both data capture and study management: sites, subjects, visits,
form entries, rows and values (models), the study definition they follow (loader), how a
value is parsed and stored (fields, dates) and a subject's data read at once (data)."""
