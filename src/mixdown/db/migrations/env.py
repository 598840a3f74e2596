"""Alembic environment: run the migrations on the engine the caller passes in."""

from __future__ import annotations

from alembic import context

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, render_as_batch=True,
                      transaction_per_migration=True)
    context.run_migrations()
