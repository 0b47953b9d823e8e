"""Configuration: embedded defaults, ECRF_* variables, test overrides; nothing at import."""

from __future__ import annotations

import importlib
import stat

from ecrf import create_app
from ecrf.config import normalise_database_url


def test_defaults_are_a_sqlite_file_and_a_kept_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("ECRF_DATABASE_URL", raising=False)
    monkeypatch.delenv("ECRF_SECRET_KEY", raising=False)
    monkeypatch.setenv("ECRF_INSTANCE_PATH", str(tmp_path / "inst"))
    first = create_app()
    assert (
        first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'ecrf.sqlite'}"
    )
    key_file = tmp_path / "inst" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) == 64
    second = create_app()
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_environment_variables_are_read_when_the_app_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("ECRF_INSTANCE_PATH", str(tmp_path))
    import ecrf

    importlib.reload(ecrf)  # importing reads nothing...
    monkeypatch.setenv("ECRF_DATABASE_URL", "postgresql://u@db.example:5432/trial")
    monkeypatch.setenv("ECRF_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("ECRF_SESSION_IDLE_MINUTES", "10")
    app = ecrf.create_app()  # ...building does
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example:5432/trial"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SESSION_IDLE_MINUTES"] == 10
    assert app.instance_path == str(tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_test_config_overrides_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ECRF_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ECRF_LOCKOUT_MINUTES", "60")
    app = create_app({"LOCKOUT_MINUTES": 2, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["LOCKOUT_MINUTES"] == 2


def test_postgres_url_spellings_are_routed_to_psycopg():
    assert normalise_database_url("postgres://a@h/d") == "postgresql+psycopg://a@h/d"
    assert normalise_database_url("postgresql://a@h/d") == "postgresql+psycopg://a@h/d"
    assert normalise_database_url("postgresql+psycopg://a@h/d") == "postgresql+psycopg://a@h/d"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_audit_key_is_generated_once_in_the_instance_folder_unless_given(tmp_path, monkeypatch):
    monkeypatch.delenv("ECRF_AUDIT_KEY", raising=False)
    monkeypatch.setenv("ECRF_INSTANCE_PATH", str(tmp_path / "inst"))
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key_file = tmp_path / "inst" / "audit_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["AUDIT_KEY"] == key_file.read_text() != first.config["SECRET_KEY"]
    assert (
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["AUDIT_KEY"]
        == (first.config["AUDIT_KEY"])
    )
    assert first.config["AUDIT_CHECKPOINT_FILE"] == str(tmp_path / "inst" / "audit_checkpoints")
    monkeypatch.setenv("ECRF_AUDIT_KEY", "kept in a vault")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["AUDIT_KEY"] == (
        "kept in a vault"
    )


def test_strict_rules_are_off_unless_the_environment_turns_them_on(tmp_path, monkeypatch):
    monkeypatch.setenv("ECRF_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ECRF_STRICT_RULES", raising=False)
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["STRICT_RULES"] is False
    monkeypatch.setenv("ECRF_STRICT_RULES", "true")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["STRICT_RULES"] is True
