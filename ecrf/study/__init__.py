"""Study structure: sites now; the study definition, subjects and visit schedules later."""
