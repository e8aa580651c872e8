"""Reading websocket messages with a size limit.

gevent-websocket reads a frame of any announced length into memory. This
reader looks at each frame header first: a message over the limit is read
and thrown away in small pieces (so the stream stays in step and the socket
keeps working), and one over ``hard_limit`` closes the socket (1009).
It relies on gevent-websocket's frame API (Header, raw_read, send_frame).

The socket may be closed by another greenlet (the writer, for a flood or an
idle client) while the reader waits for a frame: the frame that then comes
is read to its end and dropped, not read through the references close()
let go of.
"""

import struct

from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.websocket import Header

CHUNK = 65536
# The read buffer of an open socket: a signal or a hello fits in one read,
# a larger message is read past it; the server's 8 KiB, kept by every idle
# socket, would cost more than all else it holds.
READ_BUFFER = 1024
TOO_LARGE = object()  # returned instead of a message that was over the limit


def _discard(read, length):
    while length:
        data = read(min(length, CHUNK))
        if not data:
            raise WebSocketError("Unexpected EOF reading frame payload")
        length -= len(data)


def _read_message(ws, max_bytes, hard_limit):
    stream, read = ws.stream, ws.raw_read  # close() sets them to None
    opcode = None
    parts = []
    size = 0
    while True:
        header = Header.decode_header(stream)
        if header.flags:
            raise ProtocolError()
        if header.opcode in (ws.OPCODE_PING, ws.OPCODE_PONG, ws.OPCODE_CLOSE):
            payload = read(header.length) if header.length else b""
            payload = header.unmask_payload(payload) if header.mask else payload
            if header.opcode == ws.OPCODE_PING:
                ws.handle_ping(header, payload)
                continue
            if header.opcode == ws.OPCODE_CLOSE:
                ws.handle_close(header, payload)
                return None
            continue
        if header.opcode in (ws.OPCODE_TEXT, ws.OPCODE_BINARY):
            if opcode is not None:
                raise ProtocolError()
            opcode = header.opcode
        elif header.opcode != ws.OPCODE_CONTINUATION or opcode is None:
            raise ProtocolError()
        size += header.length
        if size > hard_limit:
            close(ws, 1009)
            return None
        if size > max_bytes or parts is None:
            _discard(read, header.length)
            parts = None
        elif header.length:
            payload = read(header.length)
            if len(payload) != header.length:
                raise WebSocketError("Unexpected EOF reading frame payload")
            parts.append(header.unmask_payload(payload) if header.mask else payload)
        if header.fin:
            break
    if parts is None:
        return TOO_LARGE
    data = b"".join(parts)
    if opcode == ws.OPCODE_BINARY:
        return bytes(data)
    return data.decode("utf-8")


def close(ws, code, reason=""):
    """Close with ``code`` and an ASCII ``reason``: gevent-websocket's own
    close() drops the code."""
    if ws.closed:
        return
    try:
        ws.send_frame(struct.pack("!H", code) + reason.encode("ascii")[:123], ws.OPCODE_CLOSE)
    except (WebSocketError, OSError):
        pass
    finally:
        ws.closed = True
        ws.stream = ws.raw_write = ws.raw_read = ws.environ = None


def receive(ws, max_bytes, hard_limit):
    """The next message (str, or bytes for a binary one), TOO_LARGE, or
    None when the socket closed."""
    if ws.closed:
        return None
    try:
        message = _read_message(ws, max_bytes, hard_limit)
        return None if ws.closed else message  # closed while it was read
    except UnicodeError:  # a text message, or a close reason, that is not UTF-8
        close(ws, 1007)
    except ProtocolError:
        close(ws, 1002)
    except (WebSocketError, OSError):
        close(ws, 1011)
    return None


def shrink_read_buffer(ws):
    """Read ``ws`` through a ``READ_BUFFER`` buffer instead of the HTTP
    handler's 8 KiB one, when that one holds nothing and nothing more has
    come (what it holds must still be read from it); whether it is done.
    The reader tries between messages until it is (an idle socket: after
    its hello)."""
    if ws.closed:
        return True
    handler = ws.handler
    sock = handler.socket
    timeout = sock.gettimeout()
    sock.settimeout(0)  # peek() reads once when its buffer is empty: not waiting
    try:
        pending = handler.rfile.peek(1)
    except OSError:
        return True  # the client is gone: the next read says so
    finally:
        sock.settimeout(timeout)
    if pending:
        return False
    # A file of its own: the old one, when collected, closes only its own.
    rfile = sock.makefile("rb", READ_BUFFER)
    # Everything gevent's handler and gevent-websocket keep it in (for an
    # upgrade, the environ's wsgi.input is the file itself).
    handler.rfile = handler.wsgi_input.rfile = ws.environ["wsgi.input"] = rfile
    ws.stream.read = ws.raw_read = rfile.read
    return True
