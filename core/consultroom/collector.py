"""The garbage collector while a process assembles the application.

Importing the code, mapping the models and registering the views make about
200,000 objects that live as long as the process. With the collector's
default thresholds, the young collections they trigger cascade into full
collections that scan all of them, again and again: measured on a server's
start, about a tenth of its CPU (1.35-1.40 s against 1.21-1.27 s). While
the application is assembled the collector runs rarely; afterwards its
thresholds are as they were, and what exists then is frozen
(``gc.freeze``): later full collections, each a pause of the whole process
(about 100 ms for those objects, every socket of a gevent server waiting),
leave it out. Assembling leaves almost no garbage in cycles to freeze with
it (69 objects, measured).

Only for the entry points of a process of its own (``consultroom.main``,
``consultroom.command``): a program that assembles the application among
other work (the tests) would freeze its own garbage too.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# A young collection every this many new objects while assembling (the
# default is 700); no gain measured above it.
ASSEMBLY_THRESHOLD = 50_000


@contextmanager
def assembling() -> Iterator[None]:
    threshold = gc.get_threshold()
    gc.set_threshold(ASSEMBLY_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.freeze()
