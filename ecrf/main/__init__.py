"""The home page and the shared page furniture."""
