# Whole frames: header + protobuf payload, read from / written to a stream.
#
# read_frame(stream, version=203, max_size=65536) -> (Header, payload bytes)
# await read_frame_async(reader, ...) -> the same from an asyncio stream
# read_message(stream, msg_type, ...) -> (Header, message dict)
# build(payload, kkm_id, token, reqnum, version=203) -> frame bytes
# build_message(msg_type, value, kkm_id, token, reqnum) -> frame bytes
#
# The stream is any blocking object with read(n) or readinto(buf) (a socket
# made with makefile(), a socket with a timeout, io.BytesIO). Exactly SIZE
# bytes are read; a stream that ends early (b"" or None) raises
# ofd.ProtocolError("truncated"). OSError from the stream (timeouts, resets)
# is passed through unchanged: it is a transport failure, not bad data.
# The size announced in the header is checked against max_size before any
# buffer is allocated.

from ofd import ProtocolError
from ofd import codec
from ofd import header as hdr


def read_exact(stream, n):
    buf = bytearray(n)
    if n == 0:
        return buf
    mv = memoryview(buf)
    got = 0
    readinto = getattr(stream, "readinto", None)
    while got < n:
        if readinto is not None:
            k = readinto(mv[got:])
        else:
            chunk = stream.read(n - got)
            k = len(chunk) if chunk else 0
            if k > n - got:
                raise ProtocolError("stream returned too much")
            if k:
                mv[got : got + k] = chunk
        if not k:
            # end of stream (b"", 0) or no data on a non-blocking one (None)
            raise ProtocolError("truncated", got)
        got += k
    return buf


def read_frame(stream, version=hdr.VERSION, max_size=hdr.MAX_SIZE):
    h = hdr.unpack(read_exact(stream, hdr.SIZE), version, max_size)
    return h, bytes(read_exact(stream, h.size - hdr.SIZE))


async def read_frame_async(reader, version=hdr.VERSION, max_size=hdr.MAX_SIZE):
    # reader: an asyncio stream (readexactly); its end before SIZE bytes is
    # ProtocolError("truncated") as above
    try:
        h = hdr.unpack(await reader.readexactly(hdr.SIZE), version, max_size)
        return h, await reader.readexactly(h.size - hdr.SIZE)
    except EOFError:
        raise ProtocolError("truncated")


def read_message(stream, msg_type, version=hdr.VERSION, max_size=hdr.MAX_SIZE,
                 max_depth=codec.DEFAULT_MAX_DEPTH):
    h, payload = read_frame(stream, version, max_size)
    return h, codec.decode(msg_type, payload, max_depth)


def build(payload, kkm_id, token, reqnum, version=hdr.VERSION):
    size = hdr.SIZE + len(payload)
    if size > hdr.MAX_SIZE:
        raise ProtocolError("frame too large", size)
    return hdr.pack(size, kkm_id, token, reqnum, version) + bytes(payload)


def build_message(msg_type, value, kkm_id, token, reqnum, version=hdr.VERSION):
    return build(codec.encode(msg_type, value), kkm_id, token, reqnum, version)


def split(data, version=hdr.VERSION, max_size=hdr.MAX_SIZE):
    # A complete frame held in memory -> (Header, payload bytes).
    h = hdr.unpack(data, version, max_size)
    if len(data) != h.size:
        raise ProtocolError("frame size mismatch", len(data))
    return h, bytes(memoryview(data)[hdr.SIZE:])
