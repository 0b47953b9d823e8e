"""Accounts, roles, sign-in, lockout and the one permission check."""
