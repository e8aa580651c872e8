"""Scheduled jobs run by ``consultroom worker``: reminders, anonymisation."""
