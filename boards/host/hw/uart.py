# machine.UART on the PC: a pseudo-terminal (the modem simulator's,
# tools/modemsim.py) opened by its path, for the drivers' asyncio streams.
#
#   u = UART(path, baudrate=115200, timeout=0)
#   u.read(n) -> bytes or None (nothing waiting), u.readinto(buf), u.write(b), u.any(), u.close()
#   MicroPython: asyncio.StreamReader(u) / StreamWriter(u, {}) as with a real UART
#   CPython: u.streams() -> (reader, writer) on the running loop
#
# The other end sets the terminal raw (no echo, no line editing).
# A board's UART by number, as a device board opens it (UART(1, tx=..,
# rx=.., flow=UART.CTS, ..)): the terminal PORTS names for that number.

import sys

PORTS = {}  # UART number -> terminal path


def _path(port):
    if isinstance(port, int):
        if port not in PORTS:
            raise ValueError("UART(%d): no terminal for it in uart.PORTS" % port)
        return PORTS[port]
    return port

if sys.implementation.name == "micropython":
    import io
    import select

    _GET_FILENO = 10  # the stream ioctls asyncio's poller uses
    _POLL = 3

    class UART(io.IOBase):
        RTS = 1  # flow control: accepted, a terminal has no such lines
        CTS = 2

        def __init__(self, path, baudrate=115200, timeout=0, **kw):
            self.f = open(_path(path), "r+b")
            self.p = select.poll()
            self.p.register(self.f, select.POLLIN)

        def any(self):
            return 1 if self.p.poll(0) else 0

        def readinto(self, b):
            # a byte at a time while the terminal has one: its reads block
            n = 0
            while n < len(b) and self.p.poll(0):
                c = self.f.read(1)
                if not c:
                    break
                b[n] = c[0]
                n += 1
            return n or None

        def read(self, n=256):
            b = bytearray(n)
            k = self.readinto(b)
            return None if k is None else bytes(b[:k])

        def write(self, b):
            return self.f.write(b)

        def ioctl(self, req, arg):
            if req == _GET_FILENO:
                return self.f.fileno()  # the poller waits on the descriptor itself
            if req == _POLL:
                return (arg & select.POLLIN if self.any() else 0) | (arg & select.POLLOUT)
            return 0

        def close(self):
            self.f.close()

else:
    import asyncio
    import errno
    import os
    import tty

    class UART:
        RTS = 1  # flow control: accepted, a terminal has no such lines
        CTS = 2

        def __init__(self, path, baudrate=115200, timeout=0, **kw):
            self.fd = os.open(_path(path), os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            tty.setraw(self.fd)

        def any(self):
            import select

            return 1 if select.select([self.fd], [], [], 0)[0] else 0

        def read(self, n=256):
            try:
                return os.read(self.fd, n) or None
            except BlockingIOError:
                return None

        def readinto(self, b):
            d = self.read(len(b))
            if d is None:
                return None
            b[: len(d)] = d
            return len(d)

        def write(self, b):
            b = bytes(b)
            done = 0
            while done < len(b):
                try:
                    done += os.write(self.fd, b[done:])
                except BlockingIOError:
                    import select

                    select.select([], [self.fd], [], 1)
            return done

        def streams(self):
            loop = asyncio.get_running_loop()
            r = asyncio.StreamReader()

            def readable():
                try:
                    d = os.read(self.fd, 4096)
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                        return
                    d = b""
                if d:
                    r.feed_data(d)
                else:
                    loop.remove_reader(self.fd)
                    r.feed_eof()

            loop.add_reader(self.fd, readable)
            return r, _Writer(self)

        def close(self):
            try:
                asyncio.get_running_loop().remove_reader(self.fd)
            except (RuntimeError, ValueError):
                pass
            os.close(self.fd)

    class _Writer:
        def __init__(self, u):
            self.u = u

        def write(self, b):
            self.u.write(b)

        async def drain(self):
            pass
