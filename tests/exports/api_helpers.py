"""Helpers shared by the API tests: tokens for the demo accounts, authorised requests."""

from __future__ import annotations

from flask import Flask

from ecrf.api import tokens
from ecrf.auth import services as auth_services
from ecrf.extensions import db


def issue_token(app: Flask, username: str, *, days: int = 30, name: str = "test script") -> str:
    """A fresh token for ``username``, created by the command-line operator."""
    with app.app_context():
        _, value = tokens.create_token(
            auth_services.get_user(username), name, days=days, actor=None
        )
        db.session.commit()
    return value


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def sign_in(client, username: str, password: str) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
