"""Installed themes, their manifests and parent chains, and the per-request
choice of templates and static files.

A theme is a directory with ``templates/``, ``static/`` (either optional)
and a manifest ``theme.toml``::

    name = "calm"           # optional; a directory's name is its theme's name
    title = "Calm"          # shown where an organisation picks its theme
    parent = "default"      # optional, "default" when left out

A template or static file is looked up in the theme, then its parent, its
parent's parent..., and last in the bundled ``default`` theme, so a theme
holds only what it changes. Installed themes: the bundled ones (package
data, ``consultroom:themes/<name>``), those of installed distributions
(entry point group ``consultroom.themes``: ``name = package:path``), every
directory in ``consultroom.themes_dir`` and a distribution's theme named by
asset spec in ``consultroom.theme``. Unknown parents and cycles stop the start-up.

``consultroom.theme`` is the installation's theme; an organisation may pick
another installed theme (``Organisation.theme``). Pages render through one
Jinja2 environment per chain (an overlay of the configured one, with its
own template cache), chosen by the request's organisation. Static files:
``/static/`` serves the installation's chain (as always) and
``/theme/<name>/`` each installed theme's; templates write
``{{ static("css/main.css") }}`` to get the address for the page's theme.
"""

import hashlib
import re
import threading
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from jinja2 import TemplateNotFound
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPNotFound
from pyramid.path import AssetResolver, DottedNameResolver
from pyramid.static import static_view
from pyramid_jinja2 import (
    ENV_CONFIG_PHASE,
    IJinja2Environment,
    SmartAssetSpecLoader,
    create_environment_from_options,
)
from pyramid_jinja2.settings import (
    parse_env_options_from_settings,
    parse_loader_options_from_settings,
)

MANIFEST = "theme.toml"
ENTRY_POINTS = "consultroom.themes"
DEFAULT = "default"
BUNDLED = "consultroom:themes"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
REGISTRY_KEY = "consultroom.themes"
# The registry's set of package-relative template names that do not exist.
MISSING_BESIDE = "consultroom.templates_missing_beside"
STATIC_SECONDS = 3600


class ThemeError(ConfigurationError):
    """A theme that cannot be installed: stops the start-up."""


@dataclass(frozen=True)
class Theme:
    name: str
    title: str
    parent: str | None  # None for the default theme only
    path: Path  # the theme's directory

    def part(self, part):
        """The absolute path of ``templates`` or ``static``, or None."""
        directory = self.path / part
        return str(directory) if directory.is_dir() else None


def _manifest(path):
    file = path / MANIFEST
    if not file.is_file():
        return {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{file}: not a readable theme manifest ({exc})") from None
    for key in ("name", "title", "parent"):
        if key in data and not isinstance(data[key], str):
            raise ThemeError(f"{file}: {key} must be a string")
    return data


def load_theme(path, name=None):
    """The theme in directory ``path``; ``name`` is the directory's (a
    manifest may repeat it, not change it)."""
    data = _manifest(path)
    name = name or data.get("name") or path.name
    if data.get("name", name) != name:
        raise ThemeError(f"{path}: the manifest's name {data['name']!r} is not {name!r}")
    if not NAME.match(name):
        raise ThemeError(f"{path}: a theme's name is lowercase letters, digits, - and _")
    parent = None if name == DEFAULT else data.get("parent") or DEFAULT
    return Theme(name=name, title=data.get("title") or name, parent=parent, path=path)


def _is_theme(path):
    return (
        path.is_dir()
        and not path.name.startswith((".", "_"))
        and (
            (path / MANIFEST).is_file()
            or (path / "templates").is_dir()
            or (path / "static").is_dir()
        )
    )


def _directory_themes(directory):
    return [load_theme(p, p.name) for p in sorted(Path(directory).iterdir()) if _is_theme(p)]


def _distribution_themes():
    """Themes installed as distributions of their own: each names its theme
    directory by asset spec in the entry point group ``consultroom.themes``
    (``calmer = consultroom_calmer:theme``; the entry point's name is the
    theme's)."""
    themes = []
    for entry in entry_points(group=ENTRY_POINTS):
        try:
            path = _resolve(entry.value)
        except (ImportError, ValueError) as exc:
            raise ThemeError(f"theme entry point {entry.name}: {exc}") from None
        themes.append(load_theme(path, entry.name))
    return themes


def _resolve(spec):
    return Path(AssetResolver().resolve(spec).abspath()).resolve()


def installed_themes(config):
    """The installed themes, read once at start-up (and kept in the registry)."""
    themes = config.registry.get(REGISTRY_KEY)
    if themes is None:
        themes = config.registry[REGISTRY_KEY] = Themes.from_settings(config.get_settings())
    return themes


class Themes:
    """The installed themes by name, their chains, and what serves them."""

    def __init__(self, themes, installation):
        self.installed = {}
        for theme in themes:
            self.installed[theme.name] = theme
        self.installation = installation
        self._environments = {}
        self._same_static = {}
        self._lock = threading.Lock()
        self.check()

    @classmethod
    def from_settings(cls, settings):
        """Bundled themes, then distributions' (entry points), then
        ``consultroom.themes_dir``'s (these two may replace a bundled one but
        not ``default``), then the distribution theme ``consultroom.theme``
        names by asset spec."""
        themes = _directory_themes(_resolve(BUNDLED))
        added = _distribution_themes()
        if settings.get("consultroom.themes_dir"):
            added += _directory_themes(Path(settings["consultroom.themes_dir"]).resolve())
        for theme in added:
            if theme.name == DEFAULT:
                raise ThemeError(f"{theme.path}: the name 'default' is the bundled theme's")
            themes.append(theme)
        name = settings.get("consultroom.theme") or DEFAULT
        if ":" in name:
            theme = load_theme(_resolve(name))
            themes.append(theme)
            name = theme.name
        return cls(themes, name)

    def check(self):
        if DEFAULT not in self.installed:
            raise ThemeError("the bundled default theme is missing")
        if self.installation not in self.installed:
            name = self.installation
            raise ThemeError(f"consultroom.theme: no installed theme is called {name!r}")
        for name in self.installed:
            self.chain(name)

    def chain(self, name):
        """The themes ``name`` looks things up in: itself, its parents, default."""
        chain = []
        while name is not None:
            if name in (t.name for t in chain):
                names = " -> ".join([*(t.name for t in chain), name])
                raise ThemeError(f"themes whose parents make a circle: {names}")
            if name not in self.installed:
                whose = f"theme {chain[-1].name!r}: no installed parent" if chain else "no"
                raise ThemeError(f"{whose} theme {name!r}")
            chain.append(self.installed[name])
            name = chain[-1].parent
        return tuple(chain)

    def parts(self, name, part):
        return [p for p in (t.part(part) for t in self.chain(name)) if p]

    def static_file(self, name, path):
        """The file theme ``name``'s chain serves for ``path``, or None."""
        for directory in self.parts(name, "static"):
            candidate = Path(directory) / path
            if candidate.is_file():
                return candidate
        return None

    def same_static(self, name, path):
        """Whether theme ``name`` serves the installation's file for ``path``
        (remembered: templates name a few dozen files)."""
        key = (name, path)
        same = self._same_static.get(key)
        if same is None:
            same = self.static_file(name, path) == self.static_file(self.installation, path)
            self._same_static[key] = same
        return same

    def choices(self):
        return sorted((t.name, t.title) for t in self.installed.values())

    def for_request(self, request):
        """The name of the theme the request's pages use."""
        org = getattr(request, "organisation", None) if request is not None else None
        chosen = getattr(org, "theme", "") if org is not None else ""
        return chosen if chosen in self.installed else self.installation

    def environment(self, base, name):
        """The Jinja2 environment of theme ``name``'s chain: ``base`` with
        a loader over the chain's templates and a template cache of its own."""
        env = self._environments.get(name)
        if env is None:
            with self._lock:
                env = self._environments.get(name)
                if env is None:
                    loader = SmartAssetSpecLoader(self.parts(name, "templates"))
                    # A plain dict as the template cache: Jinja2's LRU
                    # cache reorders a deque on every hit, comparing weak
                    # references, about 3 % of a staff page; the templates
                    # are a fixed set, so nothing needs evicting.
                    env = self._environments[name] = base.overlay(loader=loader, cache_size=-1)
        return env


def static_address(request, path):
    """The address of static file ``path`` (``css/main.css``) in the
    request's theme: under /static/ when the installation's theme serves the
    same file (then every theme shares one address, one cached copy and one
    instance of a script module that plugins import from /static/), else
    under /theme/<name>/."""
    themes = request.registry[REGISTRY_KEY]
    name = themes.for_request(request)
    if name == themes.installation or themes.same_static(name, path):
        return f"/static/{path}"
    return f"/theme/{name}/{path}"


def css_version(css):
    """A short hash of a stylesheet: its address changes when it does."""
    return hashlib.sha256(css.encode()).hexdigest()[:16]


def custom_css_address(request):
    """The address of the organisation's custom stylesheet (served by
    ``tenancy.views.custom_css`` from our own origin, so that no inline
    style needs to be trusted), versioned by its content."""
    return request.route_path(
        "custom_css", _query={"v": css_version(request.organisation.custom_css)}
    )


class ChainStatic:
    """A static view over a chain of directories: the first that has the
    file serves it (each through Pyramid's static view, which refuses
    paths outside its directory)."""

    def __init__(self, directories):
        self.views = [
            static_view(d, cache_max_age=STATIC_SECONDS, use_subpath=True) for d in directories
        ]

    def __call__(self, context, request):
        for view in self.views:
            try:
                return view(context, request)
            except HTTPNotFound:
                continue
        raise HTTPNotFound()


def theme_static(request):
    """``/theme/<name>/<path>``: a file of an installed theme's chain."""
    themes = request.registry[REGISTRY_KEY]
    name = request.matchdict["name"]
    if name not in themes.installed:
        raise HTTPNotFound()
    views = request.registry["consultroom.theme_static"]
    return views[name](None, request)


class ThemedRenderer:
    """Renders a ``.html`` template in the request's theme. As
    pyramid_jinja2's renderer, a name without a package is first tried
    next to the caller's package. A name not found there is remembered for
    the registry's life: ``render()`` makes a renderer for each call, and
    looking for a missing template (not cached by Jinja2) asked the file
    system each time, a few per cent of every staff page."""

    def __init__(self, info):
        self.registry = info.registry
        self.names = [info.name]
        if ":" not in info.name and info.package is not None:
            beside = f"{info.package.__name__}:{info.name}"
            if beside not in self.registry[MISSING_BESIDE]:
                self.names.insert(0, beside)

    def template(self, request):
        themes = self.registry[REGISTRY_KEY]
        base = self.registry.getUtility(IJinja2Environment, name=".html")
        env = themes.environment(base, themes.for_request(request))
        for name in self.names[:-1]:
            try:
                return env.get_template(name)
            except TemplateNotFound:
                self.names.remove(name)
                self.registry[MISSING_BESIDE].add(name)
        return env.get_template(self.names[-1])

    def __call__(self, value, system):
        try:
            system.update(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"renderer was passed non-dictionary as value: {exc}") from None
        return self.template(system.get("request")).render(system)


def _register_environment(config):
    """The configured Jinja2 environment for ``.html`` (``jinja2.*``
    settings), as pyramid_jinja2's ``add_jinja2_renderer`` makes it: the
    installation's chain, and the base of every theme's overlay."""
    resolver = DottedNameResolver(package=config.package)

    def register():
        settings = config.get_settings()
        args = (settings, "jinja2.", resolver.maybe_resolve, config.package)
        env = create_environment_from_options(
            parse_env_options_from_settings(*args), parse_loader_options_from_settings(*args)
        )
        config.registry.registerUtility(env, IJinja2Environment, name=".html")

    config.action(("jinja2-renderer", ".html"), register, order=ENV_CONFIG_PHASE)
    config.registry[MISSING_BESIDE] = set()
    config.add_renderer(".html", ThemedRenderer)


def includeme(config):
    """Needs pyramid_jinja2 included and the ``jinja2.*`` settings set."""
    themes = config.registry[REGISTRY_KEY]
    _register_environment(config)
    config.registry["consultroom.theme_static"] = {
        name: ChainStatic(themes.parts(name, "static")) for name in themes.installed
    }
    static = ChainStatic(themes.parts(themes.installation, "static"))
    config.add_route("static", "/static/*subpath")
    config.add_view(static, route_name="static")
    config.add_route("theme_static", "/theme/{name}/*subpath")
    config.add_view(theme_static, route_name="theme_static")
