# Simulated board: host stand-ins for the hardware.
