"""The one build step setup.cfg cannot express: the translation catalogues
(``.po``) are compiled to ``.mo`` in the build, so a wheel speaks every
language without a compile step on the server. Editable installs use the
source tree's catalogues, which scripts/bootstrap compiles."""

from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError


class build_py_with_catalogues(build_py):
    def run(self):
        super().run()
        if not self.editable_mode:
            compile_catalogues(Path(self.build_lib) / "consultroom" / "locale")


def compile_catalogues(directory):
    """What scripts/bootstrap runs, on the build's copy of the catalogues: fuzzy
    entries are left out, and a catalogue error fails the build."""
    argv = ["pybabel", "--quiet", "compile", "-d", str(directory), "-D", "consultroom"]
    if CommandLineInterface().run(argv):
        raise SetupError(f"the catalogues in {directory} have errors (see above)")


setup(cmdclass={"build_py": build_py_with_catalogues})
