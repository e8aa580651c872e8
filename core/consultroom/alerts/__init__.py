"""Telling staff who are not looking at the waiting list that a client has
arrived: web push notifications to the devices they chose (``push``,
``keys``, ``views``, ``hooks``), and an e-mail to the address a department
chose (``email``)."""


def includeme(config):
    config.include(".views")
