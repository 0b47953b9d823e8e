"""`ecrf --help` and each group's help list what is really there."""

from __future__ import annotations

import pytest

from ecrf.cli import cli


def commands_listed(help_text: str) -> list[str]:
    section = help_text.split("Commands:\n", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ")]


def test_top_level_help_lists_the_operator_commands(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "IAH-PRRT eCRF operator commands." in result.output
    assert "ECRF_DATABASE_URL" in result.output and "ECRF_INSTANCE_PATH" in result.output
    listed = commands_listed(result.output)
    for command in ("audit", "db", "demo", "run", "sites", "users"):
        assert command in listed


@pytest.mark.parametrize(
    ("group", "summary", "commands"),
    [
        (
            "users",
            "Create, list, deactivate and unlock user accounts.",
            ["create", "deactivate", "list", "unlock"],
        ),
        ("sites", "Add and list the trial's sites.", ["add", "list"]),
        ("audit", "Verify the audit trail and checkpoint its head.", ["checkpoint", "verify"]),
    ],
)
def test_group_help_names_exactly_its_commands(runner, group, summary, commands):
    result = runner.invoke(cli, [group, "--help"])
    assert result.exit_code == 0, result.output
    assert summary in result.output
    assert commands_listed(result.output) == commands
    for command in commands:  # the summary mentions every command the group has
        assert command in summary.lower()


def test_users_create_help_documents_its_options(runner):
    result = runner.invoke(cli, ["users", "create", "--help"])
    assert result.exit_code == 0
    for option in ("--role", "--site", "--name", "--email", "--password-stdin"):
        assert option in result.output
    for role in ("site_staff", "investigator", "monitor", "data_manager", "sponsor", "admin"):
        assert role in result.output
    assert "never from the command line" in result.output


def test_demo_help_documents_its_options(runner):
    result = runner.invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    for option in ("--subjects", "--seed", "--no-serve", "--host", "--port", "--force"):
        assert option in result.output


def test_an_unknown_command_is_an_error(runner):
    result = runner.invoke(cli, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output
