# The drivers on an ESP32-family board's buses, as the app's board interface
# names them (firmware/app.py): keypad, scanner, display, printer, clock's
# RTC, channels. One function for both boards; the buses come from
# boards.esp32.chip.buses (the board's pin map).
#
# MERGE: the drivers are written in parallel (drivers/escpos.py,
# drivers/scanner.py, drivers/keypad.py, drivers/hd44780.py,
# drivers/ssd1306.py, drivers/ds3231.py, the modem drivers, net/wifi.py,
# net/gsm.py); the constructor calls below are completed to their
# signatures when they are merged. Every driver takes its bus injected.


def wire_all(board, bus, channels):
    from boards.esp32.chip import display_on
    from drivers.ds3231 import DS3231
    from drivers.escpos import Printer
    from drivers.keypad import Keypad
    from drivers.scanner import Scanner
    from kkm.clock import Clock

    rtc = DS3231(bus.i2c)  # the time source; it sets machine.RTC at boot
    board.clock = Clock(rtc.unix_time, rtc.set_unix_time)
    board.keypad = Keypad(bus.rows, bus.cols)
    board.scanner = Scanner(bus.scanner_uart) if bus.scanner_uart else None
    found = display_on(bus.i2c.scan())
    if found is None:
        raise OSError("no display on I2C")
    if found[0] == "ssd1306":
        from drivers.ssd1306 import Display
    else:
        from drivers.hd44780 import Display
    board.display = Display(bus.i2c, found[1])
    board.printer = Printer(bus.printer_uart)
    board.channels = []
    if "wifi" in channels:
        from net.wifi import WifiChannel

        board.channels.append(WifiChannel())
    if "gsm" in channels and bus.modem_uart is not None:
        from net.gsm import GsmChannel

        board.channels.append(GsmChannel(bus.modem_uart, bus.modem_pwrkey, bus.modem_reset))
