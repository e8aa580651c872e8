"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from consultroom.db import Base
from consultroom.db.migrate import modelled
from consultroom.db.models import import_all_models


def test_models_and_migrations_agree(db_engine):
    import_all_models()
    with db_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": modelled}
        )
        assert compare_metadata(context, Base.metadata) == []
