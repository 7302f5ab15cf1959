// The register on an ESP32-S3 N16R8 (boards/esp32s3).
#define MICROPY_HW_BOARD_NAME               "KKM register"
#define MICROPY_HW_MCU_NAME                 "ESP32S3"

// The REPL on the native USB port only: UART0 drives the modem
// (boards/esp32s3/__init__.py pin map).
#define MICROPY_HW_ENABLE_UART_REPL         (0)

#define MICROPY_HW_I2C0_SCL                 (9)
#define MICROPY_HW_I2C0_SDA                 (8)
