"""Synthetic IAH-PRRT patients for ``ecrf demo --subjects N --seed S``.

Pure functions of a random generator, a site code and today's date (nothing here imports
the engine): each patient is a *scenario*, the list of steps a site would take for them,
as typed plain data (:mod:`.steps`). The engine replays the steps through its one write
path (ecrf/demo_data.py), so every value is validated, derived, checked and audited
exactly as if it had been typed in the pages; nothing here computes what the engine
derives, except to choose answers a careful investigator would give (the eligibility
checklist).

Every date lies on or before ``today``; everything else comes from the seed, so one seed
on one day always gives the same patients.

The modules, in the order of a patient's story:

- :mod:`.steps`: what the engine is handed (step types, :class:`Scenario`)
- :mod:`.values`, :mod:`.sites`, :mod:`.record`: typed text, the sites' laboratories,
  the record being written
- :mod:`.profile`: who the patient is, their randomness and time line (:class:`Patient`)
- :mod:`.screening` (with :mod:`.history`): the screening visit and the checklist
- :mod:`.imaging`: baseline imaging, the PET-IV / PET-IAH pair
- :mod:`.therapy`: the 177Lu-dotatate cycle, scintigraphy and dosimetry
- :mod:`.follow_up` (with :mod:`.measurements`, :mod:`.logs`): the safety call and the
  follow-up visits, their vital signs, laboratory, AEs, SAEs, medications, deviations
- :mod:`.response`: RECIST 1.1 and the follow-up PET at M3 and M6
- :mod:`.end_of_study`: end of study, death
- :mod:`.story`: a patient's whole story in order, and a cohort of them
"""

from forms.iahprrt.demo.profile import PROFILES, allocate
from forms.iahprrt.demo.steps import (
    AddUnscheduledVisit,
    ChangeStatus,
    RemoveRow,
    Rows,
    SaveForm,
    Scenario,
    SetVisitDate,
    Step,
)
from forms.iahprrt.demo.story import cohort, patient

__all__ = [
    "PROFILES",
    "AddUnscheduledVisit",
    "ChangeStatus",
    "RemoveRow",
    "Rows",
    "SaveForm",
    "Scenario",
    "SetVisitDate",
    "Step",
    "allocate",
    "cohort",
    "patient",
]
