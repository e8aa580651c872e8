"""Run a caption worker for the browser tests, in its own process (so that a
test can kill it mid-sentence): ``python captions_worker.py <settings.json>``,
the live server's settings plus the worker's."""

import json
import logging
import sys

from consultroom_translation.worker import run_worker

from consultroom.app import make_config


def main(settings_path):
    logging.basicConfig(level=logging.INFO)
    with open(settings_path) as f:
        settings = json.load(f)
    app = make_config(settings).make_wsgi_app()
    run_worker(app.registry)


if __name__ == "__main__":
    main(*sys.argv[1:])
