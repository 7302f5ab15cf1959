# The service centre's fleet: signed updates (sign, package, updater) and the
# register's telemetry. A core layer: it knows compat, aio, kkm, net and
# update, never a driver or a board.
