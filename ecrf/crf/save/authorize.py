"""Step 1: may the actor enter this form of this visit of this subject?"""

from __future__ import annotations

from datetime import date

from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission
from ecrf.auth.roles import Perm
from ecrf.crf.save.plan import FormSave
from ecrf.db import utcnow
from ecrf.errors import NotFound
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Subject


def authorize(
    study: LoadedStudy,
    subject: Subject,
    visit_oid: str,
    form_oid: str,
    *,
    actor: User | None,
    visit_repeat: int,
    today: date | None = None,
) -> FormSave:
    """The save, once the actor's right at the subject's site and the form's place in the
    visit are established.

    :raises PermissionDenied: the actor may not enter data at the subject's site.
    :raises NotFound: the form is not part of the visit.
    """
    if actor is not None:
        require_permission(actor, Perm.ENTER_DATA, subject.site_id)
    visit_def = study.visits.get(visit_oid)
    if visit_def is None or form_oid not in visit_def.forms:
        raise NotFound("This form is not part of this visit.")
    return FormSave(
        study=study,
        subject=subject,
        visit_def=visit_def,
        form=study.forms[form_oid],
        visit_repeat=visit_repeat,
        actor=actor,
        today=today or utcnow().date(),
    )
