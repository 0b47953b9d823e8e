"""Source-data verification: monitors verify values against the source, as planned."""
