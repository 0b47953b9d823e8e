"""Free text is withheld from the sponsor, never from those who see the data as entered."""

from __future__ import annotations

from ecrf.auth import services as auth_services
from ecrf.exports.privacy import is_free_text, withholds_free_text
from forms.iahprrt import STUDY
from forms.language import DataType


def test_free_text_items_are_the_uncoded_text_items():
    items = [item for form in STUDY.forms for _, item in form.items()]
    free = [item for item in items if is_free_text(item)]
    assert free, "the trial has comment and 'specify' items"
    assert all(item.type is DataType.TEXT and item.codelist is None for item in free)
    assert not any(is_free_text(item) for item in items if item.type is not DataType.TEXT)


def test_only_the_sponsor_has_free_text_withheld(seeded):
    with seeded.app.app_context():
        assert withholds_free_text(auth_services.get_user("sponsor"))
        assert withholds_free_text(auth_services.get_user("admin"))
        for username in ("datamanager", "monitor", "staff.bdx", "investigator.bdx"):
            assert not withholds_free_text(auth_services.get_user(username)), username
        assert not withholds_free_text(None)
