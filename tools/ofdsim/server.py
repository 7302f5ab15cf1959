"""The running simulator: asyncio TCP server for the binary protocol plus
the aiohttp web server (check page, register list, JSON admin API)."""

import asyncio
import logging
import os
import socket
import struct
import threading

from tools.ofdsim.faults import Faults
from tools.ofdsim.header import HEADER_SIZE, HeaderError, frame, parse_header
from tools.ofdsim.ofd import Ofd
from tools.ofdsim.store import Store

log = logging.getLogger("ofdsim")

MAX_REQUEST = 1 << 20      # bytes; larger SIZE fields are refused
# One deadline for the whole request (header and payload together) and one
# for sending the answer: a client that sends a byte now and then, or never
# finishes its header, or never reads the answer, loses its connection.
READ_TIMEOUT_S = 30.0


def _reset(writer):
    """Close with RST (no FIN, no answer): what a refusing server looks like."""
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class OfdServer:
    def __init__(self, db_path, host="127.0.0.1", port=7777, http_host="127.0.0.1", http_port=8080,
                 public_url=None, read_timeout_s=READ_TIMEOUT_S, admin_remote=False, **ofd_options):
        self.db_path = db_path
        self.admin_remote = admin_remote  # admin API for non-loopback clients too
        self.read_timeout_s = read_timeout_s
        self.connections = 0  # connections being served right now
        self.host = host
        self.port = port
        self.http_host = http_host
        self.http_port = http_port
        self.public_url = public_url
        self.ofd_options = ofd_options
        self.faults = Faults()
        self.store = None
        self.ofd = None
        self._tcp = None
        self._runner = None
        self._down_task = None
        self.down_until = None
        self._commit_fut = None

    # ------------------------------------------------------------ lifecycle
    async def start(self):
        self.store = Store(self.db_path)
        self._tcp = await asyncio.start_server(self._connection, self.host, self.port, reuse_address=True)
        self.port = self._tcp.sockets[0].getsockname()[1]
        if self.http_port is not None:
            from aiohttp import web
            from tools.ofdsim.web import make_app
            self._runner = web.AppRunner(make_app(self), access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.http_host, self.http_port)
            await site.start()
            self.http_port = self._runner.addresses[0][1]
        base = self.public_url or "http://%s:%d" % (self.http_host, self.http_port or 8080)
        self.ofd = Ofd(self.store, base_url=base, **self.ofd_options)
        log.info("OFD simulator: protocol on %s:%d, web on %s:%s, db %s", self.host, self.port, self.http_host,
                 self.http_port, self.db_path)

    async def stop(self):
        if self._down_task is not None:
            self._down_task.cancel()
        if self._tcp is not None:
            self._tcp.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.store is not None:
            self.store.close()

    # ------------------------------------------------------------ group commit
    async def durable(self):
        """Return once everything written so far is committed to disk."""
        if not self.store.in_tx:
            return
        if self._commit_fut is None:
            loop = asyncio.get_running_loop()
            self._commit_fut = loop.create_future()
            # call_soon: requests already ready in this loop turn join the same commit
            loop.call_soon(self._commit)
        await asyncio.shield(self._commit_fut)

    def _commit(self):
        fut, self._commit_fut = self._commit_fut, None
        try:
            self.store.commit_pending()
        except Exception as e:
            fut.set_exception(e)
        else:
            fut.set_result(None)

    # ------------------------------------------------------------ outages
    def add_fault(self, spec):
        f = self.faults.add(spec)
        if f.kind == "down" and f.kkm_id is None:
            self.faults.remove(f.id)
            if self._down_task is not None and not self._down_task.done():
                self._down_task.cancel()
            self._down_task = asyncio.ensure_future(self._go_down(f.seconds))
        return f

    def clear_faults(self):
        """Remove every fault and end a global outage now (the port listens again)."""
        self.faults.clear()
        if self._down_task is not None and not self._down_task.done():
            self._down_task.cancel()
            self._down_task = asyncio.ensure_future(self._listen_again())

    async def _go_down(self, seconds):
        loop = asyncio.get_running_loop()
        self.down_until = loop.time() + seconds
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
        log.info("protocol port %d down for %.1f s", self.port, seconds)
        try:
            await asyncio.sleep(seconds)
        finally:  # also when stopping, cleared, or replaced by a newer outage
            self.down_until = None
        await self._listen_again()

    async def _listen_again(self):
        if self._tcp is None:
            self._tcp = await asyncio.start_server(self._connection, self.host, self.port, reuse_address=True)
            log.info("protocol port %d back", self.port)

    # ------------------------------------------------------------ one connection
    async def _connection(self, reader, writer):
        self.connections += 1
        try:
            await self._serve(reader, writer)
        except asyncio.TimeoutError:
            log.info("connection from %s timed out", writer.get_extra_info("peername"))
            writer.transport.abort()
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        except Exception:
            log.exception("request failed")
        finally:
            self.connections -= 1
            if not writer.transport.is_closing():
                writer.close()

    async def _read_request(self, reader, writer):
        """(header, payload) or None when the header is no protocol header."""
        raw = await reader.readexactly(HEADER_SIZE)
        try:
            head = parse_header(raw)
        except HeaderError as e:
            log.info("bad header from %s: %s", writer.get_extra_info("peername"), e)
            return None
        if head.size > MAX_REQUEST:
            log.info("request of %d bytes refused", head.size)
            return None
        return head, await reader.readexactly(head.size - HEADER_SIZE)

    async def _serve(self, reader, writer):
        if self.faults.on_accept() is not None:
            _reset(writer)
            return
        got = await asyncio.wait_for(self._read_request(reader, writer), self.read_timeout_s)
        if got is None:
            return
        head, payload = got
        f = self.faults.on_request(head.kkm_id)
        if f is not None and f.kind in ("refuse", "down"):
            _reset(writer)
            return
        if f is not None:  # forced result code, nothing processed
            from tools.ofdsim.ofd import _command_of
            body = self.ofd.error_answer(_command_of(payload), f.code, "injected")
            answer = frame(head.kkm_id, head.token, head.reqnum, body)
        else:
            token, body, info = self.ofd.handle(head, payload)
            await self.durable()
            answer = frame(head.kkm_id, token, head.reqnum, body)
        for f in self.faults.on_answer(head.kkm_id):
            if f.kind == "delay":
                await asyncio.sleep(f.seconds)
            elif f.kind == "wrong_reqnum":
                answer = frame(head.kkm_id, struct.unpack_from("<I", answer, 12)[0], (head.reqnum + 1) & 0xFFFF,
                               answer[HEADER_SIZE:])
            elif f.kind == "garbage":
                junk = bytearray(os.urandom(max(1, f.bytes)))
                if junk[0] == 0xA2:
                    junk[0] = 0x00
                answer = bytes(junk)
            elif f.kind == "close_after":
                answer = answer[:f.bytes]
        writer.write(answer)
        await asyncio.wait_for(writer.drain(), self.read_timeout_s)
        writer.close()


class ServerThread:
    """Run an OfdServer on its own event loop in a background thread (tests, tools)."""

    def __init__(self, db_path, **kwargs):
        kwargs.setdefault("port", 0)
        kwargs.setdefault("http_port", 0)
        self.server = OfdServer(db_path, **kwargs)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()
        self._error = None

    def _run(self):
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as e:  # reported to the starting thread
            self._error = e
            self._started.set()
            return
        self._started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.server.stop())
        self.loop.close()

    def start(self):
        self._thread.start()
        self._started.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def call(self, fn, *args):
        """Run fn(*args) on the server loop (e.g. store access) and return its result."""
        async def run():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def stop(self):
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)

    @property
    def port(self):
        return self.server.port

    @property
    def http_port(self):
        return self.server.http_port

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
