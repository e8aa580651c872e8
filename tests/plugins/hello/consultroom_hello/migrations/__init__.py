"""The hello plugin's Alembic branch."""
