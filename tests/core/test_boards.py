# The ESP32 boards (boards/esp32, boards/esp32s3): pin maps that keep off the
# module's flash, PSRAM, USB, strapping and REPL pins, the buses built from
# them as HARDWARE.md says (explicit tx/rx, big RX buffers, CTS for the
# printer, open-drain keypad rows on pulled-up columns), and the board object
# with the journal on its raw partitions and the device key kept in NVS.
from boards import esp32, esp32s3, target
from boards.esp32 import chip
from boards.sim.partition import Esp32
from journal import Accumulator


class _Pin:
    IN, OUT, OPEN_DRAIN, PULL_UP = 1, 2, 7, 1

    def __init__(self, n, mode=None, pull=None, value=None):
        self.n, self.mode, self.pull, self.value = n, mode, pull, value


class _UART:
    CTS = 2

    def __init__(self, uid, **kw):
        self.id, self.kw = uid, kw


class _I2C:
    def __init__(self, iid, sda, scl, freq):
        self.id, self.sda, self.scl, self.freq = iid, sda.n, scl.n, freq


class _RTC:
    pass


class _Machine:
    Pin, UART, I2C, RTC = _Pin, _UART, _I2C, _RTC

    @staticmethod
    def reset():
        pass


def pins_used(pins):
    # every GPIO the map names, with what it is for
    out = []
    for name in ("printer", "scanner", "modem"):
        u = pins.get(name)
        if u:
            out.append((u[1], name + " tx"))
            out.append((u[2], name + " rx"))
    if pins.get("printer_cts") is not None:
        out.append((pins["printer_cts"], "printer cts"))
    if pins.get("modem_power"):
        out.append((pins["modem_power"][0], "modem pwrkey"))
        out.append((pins["modem_power"][1], "modem reset"))
    i2c = pins.get("i2c")
    if i2c:
        out.append((i2c[1], "i2c sda"))
        out.append((i2c[2], "i2c scl"))
    for i, p in enumerate(pins.get("rows", ())):
        out.append((p, "keypad row %d" % i))
    for i, p in enumerate(pins.get("cols", ())):
        out.append((p, "keypad col %d" % i))
    if pins.get("beeper") is not None:
        out.append((pins["beeper"], "beeper"))
    return out


def _check_map(board):
    used = pins_used(board.PINS)
    gpios = [p for p, _ in used]
    assert len(set(gpios)) == len(gpios), used  # no pin twice
    for p, what in used:
        assert p in board.VALID, (p, what)
        assert p not in board.FORBIDDEN, (p, what, board.FORBIDDEN.get(p))
        if p in board.STRAPPING:
            assert what.startswith(board.STRAPPING[p][1]), (p, what, board.STRAPPING[p])
        if p in board.INPUT_ONLY:
            assert what.endswith(" rx"), (p, what)  # no output, no pull-up there
    uarts = [board.PINS[n][0] for n in ("printer", "scanner", "modem") if board.PINS[n]]
    assert len(set(uarts)) == len(uarts)
    return used


def test_s3_pin_map_keeps_off_flash_psram_usb_and_strapping_pins():
    used = _check_map(esp32s3)
    # three UARTs: printer, scanner and modem (the REPL is on USB)
    assert [esp32s3.PINS[n][0] for n in ("printer", "scanner", "modem")] == [1, 2, 0]
    assert len(used) == 3 * 2 + 1 + 2 + 2 + 6 + 5 + 1  # UARTs, CTS, modem power, I2C, keypad, beeper


def test_keypad_pins_match_the_key_map():
    from ui import keys

    for board in (esp32, esp32s3):
        assert len(board.PINS["rows"]) == len(keys.PAD)
        assert all(len(board.PINS["cols"]) == len(row) for row in keys.PAD)


def _refused(changes):
    # the ESP32 pin map with these changes fails its checks
    bad = dict(esp32.PINS)
    bad.update(changes)
    old = esp32.PINS
    try:
        esp32.PINS = bad
        _check_map(esp32)
        return False
    except AssertionError:
        return True
    finally:
        esp32.PINS = old


def test_esp32_pin_map_leaves_uart0_to_the_repl():
    _check_map(esp32)
    assert esp32.PINS["modem"] is None and esp32.CHANNELS == ("wifi",)
    # a strapping pin only for the use that keeps its level at reset: the
    # beeper on a pulled-up one, the last row on a pulled-down one
    for beeper, rows in ((5, (13, 14, 27, 26, 15, 4)), (None, (13, 14, 27, 26, 5, 2))):
        assert _refused({"printer_cts": None, "beeper": beeper, "rows": rows}), (beeper, rows)
    assert 0 not in [esp32.PINS[n][0] for n in ("printer", "scanner")]
    # the chip's own checks: a keypad row on an input-only pin is refused
    assert _refused({"rows": (34, 14, 27, 26, 5, 15)})


def test_buses_follow_the_pin_map():
    b = chip.buses(esp32s3.PINS, _Machine)
    p = b.printer_uart
    assert p.id == 1 and p.kw["tx"] == 17 and p.kw["rx"] == 18 and p.kw["timeout"] == 0
    assert p.kw["flow"] == _UART.CTS and p.kw["cts"].n == 16
    assert b.scanner_uart.kw["rxbuf"] >= 1024 and "flow" not in b.scanner_uart.kw
    assert b.modem_uart.id == 0 and b.modem_uart.kw["rxbuf"] >= 4096
    assert (b.i2c.sda, b.i2c.scl) == (8, 9)
    assert [r.n for r in b.rows] == [38, 39, 40, 41, 42, 47]
    assert b.beeper.n == 21 and b.beeper.mode == _Pin.OUT and b.beeper.value == 0
    assert b.printer_baud == 19200
    assert all(r.mode == _Pin.OPEN_DRAIN and r.value == 1 for r in b.rows)
    assert all(c.mode == _Pin.IN and c.pull == _Pin.PULL_UP for c in b.cols) and len(b.cols) == 5
    assert b.modem_pwrkey.n == 13 and b.modem_reset.n == 14
    e = chip.buses(esp32.PINS, _Machine)
    assert e.modem_uart is None and e.modem_pwrkey is None and e.printer_uart.kw["cts"].n == 4


def _chip():
    return Esp32([("nvs", 1, 2, 0x9000, 0x6000), ("factory", 0, 0, 0x10000, 0x1F0000),
                  ("vfs", 1, 0x81, 0x200000, 0x40000), ("fjournal", 0x40, 0, 0x240000, 8 * 4096),
                  ("fmemory", 0x40, 1, 0x300000, 4096)])


def test_kz_28_board_opens_the_journal_on_its_partitions_with_the_key_from_nvs():
    dev = _chip()
    wired = []
    b = chip.make(esp32s3.PINS, lambda board, bus: wired.append(bus), _Machine, dev)
    assert wired == [b.bus] and b.bus.printer_uart.id == 1
    assert len(b.key) == chip.KEY_LEN and b.ofd_hosts
    acc = Accumulator(b.flash[0], b.flash[1], b.key)
    seq = acc.append(16, b"doc", 1767254400, need_ack=True)
    # a reset: the same key from NVS, the record still there under it
    again = chip.make(esp32s3.PINS, lambda board, bus: None, _Machine, dev)
    assert again.key == b.key
    acc = Accumulator(again.flash[0], again.flash[1], again.key)
    assert acc.read(seq)[2] == b"doc" and acc.self_test().ok


def test_chip_name_picks_the_board():
    assert target.name("KKM register with ESP32S3") == "esp32s3"
    assert target.name("Generic ESP32 module with ESP32") == "esp32"
    for other in ("Generic ESP32C3 module with ESP32C3", "linux [GCC 12] version"):
        try:
            target.name(other)
            refused = False
        except OSError as e:
            refused = other in e.args[0]
        assert refused


def test_the_display_that_answers_on_i2c_is_the_one_wired():
    assert chip.display_on([0x3C, 0x68]) == ("ssd1306", 0x3C)
    assert chip.display_on([0x27, 0x68]) == ("hd44780", 0x27)
    assert chip.display_on([0x68, 0x3F]) == ("hd44780", 0x3F)
    assert chip.display_on([0x68]) is None  # only the RTC: no display


def test_a_stored_key_of_another_size_is_never_replaced():
    # the chain under the old key would be lost: the board does not start
    for stored in (b"k" * 16, b"k" * 64):
        dev = _chip()
        dev.nvs[(chip.NVS_SPACE, chip.NVS_KEY)] = stored
        try:
            chip.device_key(dev)
            raised = False
        except OSError:
            raised = True
        assert raised and dev.nvs[(chip.NVS_SPACE, chip.NVS_KEY)] == stored


def test_the_board_takes_the_broker_the_deploy_provisioned():
    # lib/fleet.json (tools/deploy.py --fleet) -> board.fleet, the telemetry's
    # broker; a missing or malformed file: no telemetry, and the register starts
    import os

    base = "/tmp" if "tmp" in os.listdir("/") else ""
    d = base + "/kkm-fleet-%d" % os.getpid() if hasattr(os, "getpid") else base + "/kkm-fleet"
    try:
        os.mkdir(d)
    except OSError:
        pass
    path = d + "/" + chip.FLEET_FILE
    for text, want in (('{"host": "mqtt.centre.kz", "port": 1883, "user": "kkm1"}',
                        {"host": "mqtt.centre.kz", "port": 1883, "user": "kkm1"}),
                       ('{"host": ', None), ('[1883]', None)):
        with open(path, "w") as f:
            f.write(text)
        assert chip.fleet_settings(d) == want, text
    os.remove(path)
    assert chip.fleet_settings(d) is None
    os.rmdir(d)
