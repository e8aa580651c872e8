"""The translation plugin's catalogues (``.po``) are compiled to ``.mo`` in the
build, so the wheel speaks every language without a compile step on the
server (as the core's setup.py does for the core)."""

from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

DOMAIN = "consultroom_translation"


class build_py_with_catalogues(build_py):
    def run(self):
        super().run()
        if not self.editable_mode:
            directory = Path(self.build_lib) / DOMAIN / "locale"
            argv = ["pybabel", "--quiet", "compile", "-d", str(directory), "-D", DOMAIN]
            if CommandLineInterface().run(argv):
                raise SetupError(f"the catalogues in {directory} have errors (see above)")


setup(cmdclass={"build_py": build_py_with_catalogues})
