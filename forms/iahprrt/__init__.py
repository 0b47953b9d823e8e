"""The IAH-PRRT (LUTARTERIAL, NCT04837885) study definition: see STUDY in study.py."""

from forms.iahprrt.study import STUDY

__all__ = ["STUDY"]
