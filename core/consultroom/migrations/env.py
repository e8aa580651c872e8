"""Alembic environment: run against the engine that ``consultroom.db.migrate``
passes in, with every model (core and installed plugins) imported."""

from alembic import context

from consultroom.db import Base
from consultroom.db.migrate import modelled
from consultroom.db.models import import_all_models

import_all_models()
config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=modelled,
    )
    context.run_migrations()
