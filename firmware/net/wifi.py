# Wi-Fi as a channel (KZ-18): a network.WLAN station (injected: the board
# builds it; the PC board a loopback stand-in with the same API) and TCP
# through the runtime's sockets while the station is connected.
#
#   ch = WifiChannel(wlan, ssid, key, tcp=None, ticks_ms=None)
#   ch.up() -> the link state (the station is connected)
#   ch.state() -> "up" | "connecting" | "down" | "off" (no network configured)
#   await ch.tend()   connect, or reconnect with backoff (the manager's upkeep)
#   ch.params(settings)  the network from the settings wifi_ssid, wifi_key
#                     (empty: the board's); a change connects again at once
#   reader, writer = await ch.open(host, port, timeout_ms); configure, refresh: net.tcp
#
# wlan.connect() returns at once and the station associates in the
# background, so nothing here holds the loop; an association not up
# within the backoff is tried again, the backoff doubling from BACKOFF_MS
# (an association takes 1-3 s) up to BACKOFF_MAX_MS; it starts over once
# the link is up.

from compat import const, ticks_diff
from compat import ticks_ms as now_ms
from net import EHOSTUNREACH
from net.tcp import TcpChannel

BACKOFF_MS = const(4000)
BACKOFF_MAX_MS = const(60000)


class WifiChannel:
    name = "wifi"
    tls = True  # over its TCP channel

    def __init__(self, wlan, ssid, key, tcp=None, ticks_ms=None):
        self.wlan = wlan
        self.ssid = ssid
        self.key = key
        self.ticks_ms = ticks_ms or now_ms
        self.tcp = tcp or TcpChannel(ticks_ms=self.ticks_ms)
        self.backoff = BACKOFF_MS
        self.tried = None  # ticks of the last connect() call, None: none since the link was up
        self.connects = 0  # connect() calls made (reconnections included)

    def params(self, s):
        ssid = s.get("wifi_ssid") or self.ssid
        key = s.get("wifi_key") or self.key
        if ssid != self.ssid or key != self.key:
            self.ssid = ssid
            self.key = key
            self.tried = None
            self.backoff = BACKOFF_MS
            self.wlan.disconnect()

    def up(self):
        return bool(self.ssid) and self.wlan.isconnected()

    def state(self):
        if not self.ssid:
            return "off"
        if self.wlan.isconnected():
            return "up"
        return "down" if self.tried is None else "connecting"

    async def tend(self):
        if not self.ssid:
            return
        if self.wlan.isconnected():
            if self.tried is not None:
                self.tried = None
                self.backoff = BACKOFF_MS
                self.tcp.configure(self.tcp.hosts)  # look the names up again on the new link
            return
        now = self.ticks_ms()
        if self.tried is not None:
            if ticks_diff(now, self.tried) < self.backoff:
                return  # associating
            self.backoff = min(self.backoff * 2, BACKOFF_MAX_MS)
        self.tried = now
        self.connects += 1
        try:
            self.wlan.active(True)
            self.wlan.connect(self.ssid, self.key)
        except OSError:
            pass  # the radio refused: the backoff runs as for a failed association

    def configure(self, hosts):
        self.tcp.configure(hosts)

    def reach(self, host, port):
        self.tcp.reach(host, port)

    def refresh(self):
        return self.tcp.refresh() if self.up() else 0

    async def open(self, host, port, timeout_ms, tls=None):
        if not self.up():
            raise OSError(EHOSTUNREACH)
        return await self.tcp.open(host, port, timeout_ms, tls)
