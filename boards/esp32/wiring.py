# The drivers on an ESP32-family board's buses, as the app's board interface
# names them (firmware/app.py): clock (the DS3231 behind the ESP32's RTC),
# display (the one that answers on I2C), keypad, scanner, beeper, printer
# (ESC/POS) and the OFD channels. One function for both boards; the buses
# come from boards.esp32.chip.buses (the board's pin map), the choices from
# the board package: printer profile (drivers.escpos PROFILES), channels,
# modem ("sim800" or "sim7600").


def clock(bus):
    # the DS3231 when it answers: the time through a power cut, its OSF flag
    # as the clock's "lost"; without it only the ESP32's RTC (HARDWARE.md 5.4)
    from boards.esp32.chip import DS3231
    from drivers.ds3231 import DS3231 as Rtc
    from drivers.ds3231 import BoardTime
    from kkm.clock import Clock

    ds = Rtc(bus.i2c) if DS3231 in bus.found else None
    t = BoardTime(ds, bus.rtc)
    return Clock(t.now, t.set, lost=t.lost)


def display(bus):
    from boards.esp32.chip import display_on

    found = display_on(bus.found)
    if found is None:
        raise OSError("no display on I2C")
    kind, addr = found
    if kind == "hd44780":
        from drivers.hd44780 import HD44780

        return HD44780(bus.i2c, addr, 20, 4)
    from drivers import font6x8
    from drivers.ssd1306 import Oled

    return Oled(bus.i2c, font6x8, addr, kind)


def modem(kind, bus):
    # the SIMCom driver on the modem's UART, its power key and reset lines;
    # the APN comes from the setting gsm_apn (net.gsm params)
    from drivers.simcom import Sim800, Sim7600

    cls = Sim800 if kind == "sim800" else Sim7600
    return cls(bus.modem_uart, pwrkey=bus.modem_pwrkey, reset=bus.modem_reset)


def wire_all(board, bus, printer, channels, modem_kind=None):
    from boards.escpos_printer import EscPosPrinter
    from drivers import escpos
    from drivers.keypad import Keypad
    from drivers.scanner import Scanner
    from ui import keys

    bus.found = bus.i2c.scan()  # what answers on I2C, asked once at boot
    board.clock = clock(bus)
    board.display = display(bus)
    board.keypad = Keypad(bus.rows, bus.cols, keys.PAD)
    board.scanner = Scanner(bus.scanner_uart)
    if bus.beeper is not None:
        from drivers.beeper import Beeper

        board.beeper = Beeper(bus.beeper)
    board.printer = EscPosPrinter(bus.printer_uart, escpos.profile(printer), bus.printer_baud)
    board.channels = []
    if "wifi" in channels:
        import network
        from net.wifi import WifiChannel

        # the network comes from the settings wifi_ssid, wifi_key (net.wifi params)
        board.channels.append(WifiChannel(network.WLAN(network.WLAN.IF_STA), "", ""))
    if "gsm" in channels and bus.modem_uart is not None:
        from net.gsm import GsmChannel

        board.channels.append(GsmChannel(modem(modem_kind, bus)))
