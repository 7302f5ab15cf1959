"""A free TCP port on the loopback for the PC's servers (OFD simulator, broker, update server)."""

import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
