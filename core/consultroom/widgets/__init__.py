"""The public widgets, walk-in and booking, and the origins allowed to embed
them."""


def includeme(config):
    config.include(".views")
    config.include(".walkin")
    config.include(".live")
    config.include(".waiting_list")
    config.include(".booking")
