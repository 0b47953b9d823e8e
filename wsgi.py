"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``."""

from ecrf import create_app

app = create_app()
