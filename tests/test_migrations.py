"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from consultroom.db import Base
from consultroom.db.migrate import alembic_config, modelled
from consultroom.db.models import import_all_models


def test_models_and_migrations_agree(db_engine):
    import_all_models()
    with db_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": modelled}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_each_branch_has_one_head(plugin_registry):
    """Two migrations written side by side on the same parent leave a branch
    with two heads: "upgrade heads" still runs, but the next ``alembic
    revision`` stops on it and the order of the two is left to chance."""
    script = ScriptDirectory.from_config(alembic_config(None, plugin_registry))
    branches = 1 + sum(1 for p in plugin_registry.usable() if p.info.migrations)
    assert len(script.get_heads()) == branches, script.get_heads()
