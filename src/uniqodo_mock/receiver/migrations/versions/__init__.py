"""Alembic revision scripts of the receiver."""
