"""The messages on a worker's socket: a length prefix, then the pickled payload."""

from __future__ import annotations

import socket
import struct

HEADER = struct.Struct("!Q")  # length prefix of every message on a worker socket
PID = struct.Struct("!q")  # the zygote's answer to a fork request: the new worker's pid


def send_message(sock: socket.socket, payload: bytes, fds: tuple[int, ...] = ()) -> None:
    """One message; ``fds`` travel with its length prefix (the receiver reads that with
    ``socket.recv_fds``)."""
    if fds:
        socket.send_fds(sock, [HEADER.pack(len(payload))], list(fds))
        sock.sendall(payload)
    elif len(payload) < 65536:
        sock.sendall(HEADER.pack(len(payload)) + payload)
    else:  # no copy of a large body just to prepend eight bytes
        sock.sendall(HEADER.pack(len(payload)))
        sock.sendall(payload)


def recv_blocking(sock: socket.socket) -> bytes | None:
    """One message, waiting as long as it takes; None at EOF (the parent went away)."""
    header = recv_exact_blocking(sock, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    return recv_exact_blocking(sock, size)


def recv_exact_blocking(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            return None
        got += n
    return bytes(buffer)
