// The register on an ESP32-WROOM-32 (boards/esp32); the REPL stays on UART0.
#define MICROPY_HW_BOARD_NAME               "KKM register"
#define MICROPY_HW_MCU_NAME                 "ESP32"
