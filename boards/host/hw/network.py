# network.WLAN on the PC: a station whose "access point" is this machine's
# loopback (TCP goes through the PC's sockets). The access point can go
# away and come back (AP.up), and takes ASSOCIATE_MS to associate, as a
# real one takes a second or two.
#
#   sta = WLAN(WLAN.IF_STA); sta.active(True); sta.connect(ssid, key)
#   sta.isconnected(), sta.status(), sta.ipconfig("addr4"), sta.disconnect()
#   AP.ssid, AP.key, AP.up: the access point the stand-in joins
#   AP.off_file: a file whose presence takes the access point off the air
#                (another process cuts the Wi-Fi: tools/demo.py)

import os
import time

STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_WRONG_PASSWORD = 202
STAT_NO_AP_FOUND = 201
STAT_GOT_IP = 1010
ASSOCIATE_MS = 50


class _AccessPoint:
    def __init__(self):
        self.ssid = "kkm-shop"
        self.key = "kkm-shop-key"
        self.up = True
        self.off_file = None

    def on_air(self):
        if self.off_file is not None:
            try:
                os.stat(self.off_file)
                return False
            except OSError:
                pass
        return self.up


AP = _AccessPoint()


def _ms():
    return int(time.monotonic() * 1000) if hasattr(time, "monotonic") else time.ticks_ms()


class WLAN:
    IF_STA = 0
    IF_AP = 1

    def __init__(self, interface=0):
        self._active = False
        self._joined = None  # (ssid, key, ms) of the last connect()

    def active(self, on=None):
        if on is None:
            return self._active
        self._active = bool(on)
        if not on:
            self._joined = None
        return None

    def connect(self, ssid, key=None):
        if not self._active:
            raise OSError("WLAN not active")
        self._joined = (ssid, key, _ms())

    def disconnect(self):
        self._joined = None

    def status(self, param=None):
        j = self._joined
        if j is None:
            return STAT_IDLE
        if not AP.on_air() or j[0] != AP.ssid:
            return STAT_NO_AP_FOUND
        if j[1] != AP.key:
            return STAT_WRONG_PASSWORD
        if _ms() - j[2] < ASSOCIATE_MS:
            return STAT_CONNECTING
        return STAT_GOT_IP

    def isconnected(self):
        return self.status() == STAT_GOT_IP

    def ipconfig(self, key):
        if key == "addr4":
            return ("127.0.0.1", "255.0.0.0") if self.isconnected() else ("0.0.0.0", "0.0.0.0")
        raise ValueError(key)
