# Which board package runs on this chip: the MicroPython image names its
# MCU in os.uname().machine ("KKM register with ESP32S3", "... with ESP32").


def name(machine):
    if "ESP32S3" in machine:
        return "esp32s3"
    if "ESP32" in machine and "ESP32S" not in machine and "ESP32C" not in machine:
        return "esp32"
    raise OSError("no board for " + machine)


def make():
    import os

    n = name(os.uname().machine)
    if n == "esp32s3":
        from boards import esp32s3 as b
    else:
        from boards import esp32 as b
    return b.make()
