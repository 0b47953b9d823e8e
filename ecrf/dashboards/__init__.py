"""Dashboards per site and study, and the monitor's visit preparation for one site."""
