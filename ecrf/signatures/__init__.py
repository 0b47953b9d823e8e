"""Investigator electronic signatures of a visit, the inclusion decision or a whole casebook,
bound to a hash of the content they sign (21 CFR 11.50, 11.70, 11.200)."""
