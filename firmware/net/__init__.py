# Data channels to the outside world (KZ-18: at least two independent
# channels). A channel only moves bytes: nothing here knows the OFD
# protocol. ofd.client takes a channel and opens one connection per
# request through it.
#
#   reader, writer = await channel.open(host, port, timeout_ms)
#       a connected TCP stream as asyncio streams (reader.readexactly(n),
#       writer.write(b), await writer.drain(), writer.close() frees the
#       connection at once, no wait_closed() needed), or OSError
#       within timeout_ms; OSError(EHOSTUNREACH) at once when the channel
#       cannot reach the host now without trying (no address, no link)
#   channel.configure(hosts)   optional: the addresses it will be asked
#       for, given when they change (a channel may look names up here)
#   channel.refresh()          optional: idle-time upkeep outside any
#       exchange (e.g. the bounded retry of a failed name lookup)
#
# net.tcp.TcpChannel: TCP through the runtime's socket module (Wi-Fi on the
# device, loopback on the host). The Wi-Fi and GSM modem drivers provide
# the same interface.

EHOSTUNREACH = 113
