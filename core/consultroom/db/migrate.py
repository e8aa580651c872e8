"""Alembic migrations: the core's branch plus one branch per plugin.

Each plugin keeps its migrations in its own package (named by
``PluginInfo.migrations``); ``upgrade`` runs every installed branch to its
head ("upgrade heads").
"""

import importlib
import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from consultroom.db import Base

CORE_VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def modelled(name, type_, parent_names):
    """Alembic's ``include_name``: False for what migrations make beside the
    models (a search index: names starting with a prefix a feature put in
    ``Base.metadata.info["unmodelled_prefixes"]``), which comparing the
    models with the database must leave alone."""
    prefixes = tuple(Base.metadata.info.get("unmodelled_prefixes", ()))
    return not (name and prefixes and name.startswith(prefixes))


def version_locations(plugins):
    locations = [str(CORE_VERSIONS)]
    for plugin in plugins.usable():
        if plugin.info.migrations:
            package = importlib.import_module(plugin.info.migrations)
            locations.append(str(Path(package.__file__).resolve().parent))
    return locations


def alembic_config(engine, plugins):
    cfg = Config()
    cfg.set_main_option("script_location", "consultroom:migrations")
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(version_locations(plugins)))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine, plugins, target="heads"):
    command.upgrade(alembic_config(engine, plugins), target)


def current_heads(engine, plugins):
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
