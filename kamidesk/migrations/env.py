"""Alembic environment: every package's metadata, one database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def _metadata():  # type: ignore[no-untyped-def]
    from bot.models import Base as BotBase
    from desk.models import Base as DeskBase
    from fulfilment.models import Base as FulfilmentBase
    from knowledge_base.models import Base as KbBase

    return [FulfilmentBase.metadata, KbBase.metadata, BotBase.metadata, DeskBase.metadata]


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=_metadata(),
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=_metadata(), render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
