"""`ecrf sites add` and `ecrf sites list`."""

from __future__ import annotations

import pytest

from ecrf.records.sites import get_site


def test_add_upper_cases_the_code_and_records_the_site(app, runner, audit_actions):
    result = runner.invoke(args=["sites", "add", "bdx", "CHU de Bordeaux"])
    assert result.exit_code == 0, result.output
    assert result.output == "Added site BDX: CHU de Bordeaux.\n"
    with app.app_context():
        site = get_site("BDX")
        assert site is not None and site.code == "BDX" and site.name == "CHU de Bordeaux"
    assert audit_actions() == [("site_created", "BDX", None)]


def test_list_shows_each_site_on_one_line_sorted_by_code(runner, create_site):
    create_site("TLS", "CHU de Toulouse")
    create_site("BDX", "CHU de Bordeaux")
    result = runner.invoke(args=["sites", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["BDX\tCHU de Bordeaux", "TLS\tCHU de Toulouse"]


def test_list_of_no_sites_prints_nothing(runner):
    result = runner.invoke(args=["sites", "list"])
    assert (result.exit_code, result.output) == (0, "")


@pytest.mark.parametrize("code", ["BDX", "bdx", " Bdx "])
def test_duplicate_code_is_refused_and_writes_nothing(runner, create_site, snapshot, code):
    create_site("BDX", "CHU de Bordeaux")
    before = snapshot()
    result = runner.invoke(args=["sites", "add", code, "Another Bordeaux"])
    assert result.exit_code == 1
    assert "Error: A site with code BDX already exists." in result.output
    assert snapshot() == before


@pytest.mark.parametrize("code", ["B", "TOOLONGCODE", "B-X", "BD X", "", "ÉCO"])
def test_malformed_code_is_refused_and_writes_nothing(runner, snapshot, code):
    before = snapshot()
    result = runner.invoke(args=["sites", "add", code, "Some hospital"])
    assert result.exit_code == 1
    assert "Error: Use 2 to 8 capital letters or digits, e.g. BDX." in result.output
    assert snapshot() == before


def test_empty_name_is_refused_and_writes_nothing(app, runner, snapshot):
    before = snapshot()
    result = runner.invoke(args=["sites", "add", "BDX", "   "])
    assert result.exit_code == 1
    assert "Error: Give the site's name." in result.output
    assert snapshot() == before
    with app.app_context():
        assert get_site("BDX") is None
