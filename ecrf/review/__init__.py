"""Audit review: changes to critical items since the reviewer's last mark, and the
study-wide audit trail for data managers."""
