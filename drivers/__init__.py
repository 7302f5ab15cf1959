# Hardware drivers: each takes its bus (UART, I2C, Pins, a flash partition) injected by the board.
