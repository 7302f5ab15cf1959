# Starts the register: the board package for this chip builds the board
# (boards.target), firmware/app.py runs the app on it. Ctrl-C on the USB
# REPL stops it for service.
import app
from boards import target

app.run(target.make())
