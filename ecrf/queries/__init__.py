"""Data queries: questions on an item, a row, a form or a visit, raised by monitors and data
managers or opened automatically from edit-check findings, answered by the site."""
