# What the ESP32-family boards share: the machine buses built from a board's
# pin map, the journal on the raw partitions, the device key in NVS, and the
# board object the app takes (firmware/app.py's header). The board packages
# (boards.esp32, boards.esp32s3) hold only their pin maps and choices.
#
# A pin map is a dict (HARDWARE.md 0, 5.5):
#   "printer", "scanner", "modem": (uart id, tx, rx, baud, rxbuf) or None
#   "printer_cts": the printer's BUSY line (UART.CTS flow control) or None
#   "modem_power": (pwrkey, reset) or None
#   "i2c": (id, sda, scl, freq): display, DS3231
#   "rows", "cols": the keypad matrix (rows open-drain, columns pulled up;
#   ui.keys PAD: 6 rows of 5 keys)
#   "beeper": the buzzer's GPIO (high = sound) or None


class Board:
    pass


class Buses:
    pass


# the OFD address before the register is fiscalised: the settings'
# ofd_hosts replace it (ofd.port) once they are set
UNSET_OFD = ("ofd.unset", 7777)
NVS_SPACE = "kkm"
NVS_KEY = "jkey"  # the journal's MAC key, 32 bytes
KEY_LEN = 32
CODE = "/lib"  # the deployed code, checked against its hash manifest at power-on (firmware/integrity.py)
FLEET_FILE = "fleet.json"  # the service centre's MQTT broker, in CODE (tools/deploy.py --fleet)


def buses(pins, machine):
    # the UARTs, the I2C bus and the keypad pins of a pin map
    b = Buses()
    for name in ("printer", "scanner", "modem"):
        u = pins.get(name)
        uart = None
        if u:
            uid, tx, rx, baud, rxbuf = u
            kw = {}
            if name == "printer" and pins.get("printer_cts") is not None:
                kw["flow"] = machine.UART.CTS
                kw["cts"] = machine.Pin(pins["printer_cts"])
            # timeout 0: read by asyncio streams, never blocking the loop
            uart = machine.UART(uid, baudrate=baud, tx=tx, rx=rx, rxbuf=rxbuf, timeout=0, **kw)
        setattr(b, name + "_uart", uart)
    b.printer_baud = pins["printer"][3] if pins.get("printer") else 0
    i2c = pins.get("i2c")
    b.i2c = None
    if i2c:
        b.i2c = machine.I2C(i2c[0], sda=machine.Pin(i2c[1]), scl=machine.Pin(i2c[2]), freq=i2c[3])
    b.rows = [machine.Pin(p, machine.Pin.OPEN_DRAIN, value=1) for p in pins.get("rows", ())]
    b.cols = [machine.Pin(p, machine.Pin.IN, machine.Pin.PULL_UP) for p in pins.get("cols", ())]
    b.rtc = machine.RTC()
    bp = pins.get("beeper")
    b.beeper = None if bp is None else machine.Pin(bp, machine.Pin.OUT, value=0)
    mp = pins.get("modem_power")
    b.modem_pwrkey = b.modem_reset = None
    if mp:
        b.modem_pwrkey = machine.Pin(mp[0], machine.Pin.OUT, value=0)
        b.modem_reset = machine.Pin(mp[1], machine.Pin.OUT, value=1)
    return b


# I2C addresses (HARDWARE.md 3.2, 5.4): the display the board carries is
# the one that answers
SSD1306 = 0x3C
HD44780 = (0x27, 0x3F)  # PCF8574 / PCF8574A backpacks, default jumpers
DS3231 = 0x68


def display_on(addrs):
    # -> ("ssd1306", addr), ("hd44780", addr) or None (i2c.scan() results)
    if SSD1306 in addrs:
        return ("ssd1306", SSD1306)
    for a in HD44780:
        if a in addrs:
            return ("hd44780", a)
    return None


NVS_NOT_FOUND = -0x1102  # OSError args[0] of ESP_ERR_NVS_NOT_FOUND


def device_key(esp32):
    # The journal's MAC key from NVS; a factory-fresh board makes one once
    # (the service centre records it: README). Any other answer from NVS
    # is raised: a key is never replaced, or the journal's chain is lost.
    import os

    nvs = esp32.NVS(NVS_SPACE)
    key = bytearray(KEY_LEN)
    try:
        n = nvs.get_blob(NVS_KEY, key)
    except OSError as e:
        if e.args[0] != NVS_NOT_FOUND:
            raise
        n = 0
    if n == KEY_LEN:
        return bytes(key)
    if n:
        raise OSError("device key length %d" % n)
    key = os.urandom(KEY_LEN)
    nvs.set_blob(NVS_KEY, key)
    nvs.commit()
    return key


def fleet_settings(code):
    # the broker the deploy provisioned (host, port, client_id, user,
    # password, tls: firmware/app.py "fleet"), or None: no telemetry
    import json

    try:
        with open(code + "/" + FLEET_FILE) as f:
            s = json.load(f)
    except (OSError, ValueError):
        return None
    return s if isinstance(s, dict) and "host" in s else None


def make(pins, wire, machine=None, esp32=None, name=None):
    # The board: journal partitions, key, clock and the buses; then wire()
    # puts the drivers on the buses (keypad, scanner, display, printer,
    # channels, the RTC behind the clock). name: the board package's, which
    # signed update packages name (fleet.updater); their key is the one the
    # deploy provisioned into the code folder.
    if machine is None:
        import machine
    if esp32 is None:
        import esp32
    from compat import ticks_ms
    from drivers.partition import journal_devices
    from fleet.updater import provisioned_key
    from kkm.clock import Clock

    b = Board()
    b.code = CODE
    b.flash = journal_devices(esp32)
    b.key = device_key(esp32)
    b.clock = Clock()
    b.ticks_ms = ticks_ms
    b.ofd_hosts = [UNSET_OFD]
    b.name = name
    b.update_key = provisioned_key(CODE)
    b.fleet = fleet_settings(CODE)
    b.reset = machine.reset
    b.bus = buses(pins, machine)
    wire(b, b.bus)
    return b
