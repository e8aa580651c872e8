"""Finding a request's route without trying every route.

Pyramid's routes mapper tries the routes one after another, a regular
expression each, until one matches: with the core's and the plugins' routes
(well over a hundred) a request for one of the last ones paid for all the
others, more than for its own view's work. This mapper gives the same
answer, in the same order of precedence, from the few routes that can match
the path at all: those whose pattern starts with the path's first segment,
and those whose first segment is not plain text (a placeholder, a remainder
or an old-style ``:name``), which are always tried.
"""

from pyramid.exceptions import URLDecodeError
from pyramid.interfaces import IRoutesMapper
from pyramid.urldispatch import RoutesMapper

# In a pattern's segment, what makes it more than plain text.
_VARIABLE = ("{", "*", ":")


def _first_segment(path):
    return path.lstrip("/").split("/", 1)[0]


def _literal_first_segment(pattern):
    """The first segment of ``pattern`` when it is plain text, else None."""
    segment = _first_segment(pattern)
    return None if any(mark in segment for mark in _VARIABLE) else segment


class IndexedRoutesMapper(RoutesMapper):
    """Pyramid's ``RoutesMapper``, with the routes indexed by the first
    segment of their pattern."""

    def __init__(self):
        super().__init__()
        self._by_segment = None  # built at the first request after a change
        self._always = []

    def connect(self, *args, **kwargs):
        self._by_segment = None
        return super().connect(*args, **kwargs)

    def _index(self):
        by_segment, always = {}, []
        for route in self.routelist:
            segment = _literal_first_segment(route.pattern)
            if segment is None:
                always.append(route)
                for routes in by_segment.values():
                    routes.append(route)
            else:
                # A segment seen first now starts from the variable routes
                # added before it, in their places.
                by_segment.setdefault(segment, list(always)).append(route)
        self._always = always
        self._by_segment = by_segment
        return by_segment

    def candidates(self, path):
        """The routes that may match ``path``, in the order they are tried."""
        if "\n" in path:  # a pattern's "$" matches before a final newline
            return self.routelist
        by_segment = self._by_segment if self._by_segment is not None else self._index()
        return by_segment.get(_first_segment(path), self._always)

    def __call__(self, request):
        try:
            path = request.path_info or "/"
        except KeyError:  # as Pyramid's: no PATH_INFO at all
            path = "/"
        except UnicodeDecodeError as e:
            raise URLDecodeError(e.encoding, e.object, e.start, e.end, e.reason) from e
        for route in self.candidates(path):
            match = route.match(path)
            if match is not None:
                preds = route.predicates
                info = {"match": match, "route": route}
                if preds and not all(p(info, request) for p in preds):
                    continue
                return info
        return {"route": None, "match": None}


def includeme(config):
    # Pyramid makes its own mapper at the first route added.
    if config.registry.queryUtility(IRoutesMapper) is not None:
        raise RuntimeError("consultroom.web.routing must be included before any route")
    config.registry.registerUtility(IndexedRoutesMapper(), IRoutesMapper)
