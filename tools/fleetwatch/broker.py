"""The service centre's MQTT broker for tests and `make fleet`: mosquitto
(Debian's package; tools/setup_system.sh installs it) in a folder of its own.

    b = Broker(folder, port=0, users=None, persistence=False, tls=None).start()
        users: {name: password} (then anonymous clients are refused); tls:
        (certfile, keyfile) for a TLS listener instead of plain TCP
    b.port, b.stop(), b.restart(), b.running()

    python -m tools.fleetwatch.broker FOLDER [--port 1883]   runs one until Ctrl-C
"""

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time

from tools.localport import free_port


def mosquitto():
    for p in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if p and os.path.exists(p):
            return p
    return None


def wait_port(port, up=True, timeout=10.0):
    # until a connection to the port succeeds (up) or is refused (not up)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            if up:
                return True
        except OSError:
            if not up:
                return True
        time.sleep(0.05)
    return False


class Broker:
    def __init__(self, folder, port=0, users=None, persistence=False, tls=None, host="127.0.0.1"):
        self.folder = os.path.abspath(folder)
        self.port = port or free_port()
        self.users = users
        self.persistence = persistence
        self.tls = tls
        self.host = host
        self.proc = None
        os.makedirs(self.folder, exist_ok=True)

    def _config(self):
        lines = ["listener %d %s" % (self.port, self.host), "log_dest file " + os.path.join(self.folder, "mosquitto.log"),
                 "log_type error", "log_type warning", "log_type notice",
                 "persistence " + ("true" if self.persistence else "false"),
                 "persistence_location " + self.folder + "/", "max_queued_messages 100",
                 "user " + getpass.getuser()]  # as root it would switch to "mosquitto" and lose this folder
        if self.users:
            pw = os.path.join(self.folder, "passwords")
            open(pw, "w").close()
            for u, p in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", pw, u, p], check=True, capture_output=True)
            lines += ["allow_anonymous false", "password_file " + pw]
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            lines += ["certfile " + self.tls[0], "keyfile " + self.tls[1]]
        path = os.path.join(self.folder, "mosquitto.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self):
        exe = mosquitto()
        if exe is None:
            raise RuntimeError("mosquitto is not installed (tools/setup_system.sh installs it)")
        self.proc = subprocess.Popen([exe, "-c", self._config()], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        if not wait_port(self.port):
            self.stop()
            raise RuntimeError("mosquitto did not listen on %d" % self.port)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        p = self.proc
        self.proc = None
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p is not None and p.stderr is not None:
            p.stderr.close()

    def restart(self, down_s=0.0):
        self.stop()
        time.sleep(down_s)
        return self.start()


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description="mosquitto for the fleet")
    ap.add_argument("folder")
    ap.add_argument("--port", type=int, default=1883)
    a = ap.parse_args(argv)
    b = Broker(a.folder, a.port, persistence=True).start()
    print("MQTT broker on 127.0.0.1:%d" % b.port)
    try:
        b.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        b.stop()


if __name__ == "__main__":
    sys.exit(main())
