"""`ecrf export csv`: the operator's bundle, by site, for the sponsor; bad input writes nothing."""

from __future__ import annotations

import getpass
import io
import zipfile

import pandas as pd

from ecrf.exports.manifest import read_manifest


def export(seeded, *args: str):
    return seeded.app.test_cli_runner().invoke(args=["export", "csv", *args])


def dictionary(path) -> pd.DataFrame:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/dictionary.csv"))
        return pd.read_csv(io.BytesIO(archive.read(name)), keep_default_na=False)


def test_the_operator_exports_one_site_with_free_text(seeded, tmp_path):
    out = tmp_path / "extracts"
    result = export(seeded, "--out", str(out), "--site", "bdx")
    assert result.exit_code == 0, result.output
    (path,) = out.glob("*.zip")
    assert str(path) in result.output and "audit checkpoint #" in result.output
    manifest = read_manifest(path)
    assert manifest["site_scope"] == ["BDX"]
    assert manifest["free_text_withheld"] is False
    assert manifest["generated_by"] == f"cli:{getpass.getuser()}"
    long_rows = next(f["rows"] for f in manifest["files"] if f["name"] == "long.csv")
    assert f"({long_rows} rows of values;" in result.output
    assert not (dictionary(path).WITHHELD == "Y").any()


def test_for_sponsor_withholds_free_text_across_sites(seeded, tmp_path):
    result = export(
        seeded, "--out", str(tmp_path), "--for-sponsor", "--site", "BDX", "--site", "TLS"
    )
    assert result.exit_code == 0, result.output
    (path,) = tmp_path.glob("*.zip")
    manifest = read_manifest(path)
    assert manifest["site_scope"] == ["BDX", "TLS"]
    assert manifest["free_text_withheld"] is True
    withheld = dictionary(path)[lambda d: d.WITHHELD == "Y"]
    assert len(withheld) > 0 and (withheld.FREE_TEXT == "Y").all()


def test_an_unknown_site_is_refused_and_nothing_written(seeded, tmp_path):
    out = tmp_path / "never"
    result = export(seeded, "--out", str(out), "--site", "XYZ")
    assert result.exit_code == 1
    assert "No site with code 'XYZ'" in result.output
    assert not out.exists()


def test_an_out_path_that_is_a_file_is_refused(seeded, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    result = export(seeded, "--out", str(target))
    assert result.exit_code != 0
    assert "is a file" in result.output
    assert target.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_the_trail_verifies_after_the_exports(seeded, tmp_path):
    assert export(seeded, "--out", str(tmp_path)).exit_code == 0
    result = seeded.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_help_names_the_options(seeded):
    runner = seeded.app.test_cli_runner()
    assert "csv" in runner.invoke(args=["export", "--help"]).output
    text = runner.invoke(args=["export", "csv", "--help"]).output
    for option in ("--out", "--site", "--for-sponsor"):
        assert option in text
