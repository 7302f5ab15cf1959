# Protobuf (proto2) wire codec driven by the tables in ofd.schema.
#
#   encode(msg_type, value) -> bytes
#   decode(msg_type, data, max_depth=16) -> dict
#
# msg_type is a handle from ofd.schema (schema.Request, schema.Response,
# schema.TicketRequest_Item_Commodity: nested names joined with "_") or the
# dotted message name as a str ("TicketRequest.Item.Commodity").
#
# Values are plain dicts keyed by field name: repeated -> list, message ->
# dict, enum -> int, bool -> True/False, bytes -> bytes, string -> str.
# Absent optional fields (and empty repeated fields) are simply missing from
# a decoded dict; on encode a missing key or None means "not present".
# Encoding walks the schema in field-number order, so the output does not
# depend on dict order and equals what other protobuf encoders produce.
#
# Every problem with the data raises ofd.ProtocolError(reason, detail).
# Decoding checks each length against the bytes that remain before slicing,
# skips unknown fields, accepts packed repeated scalars, and checks required
# fields once the whole message is read. As in Google protobuf (proto2): a
# non-repeated field seen twice keeps the last value (messages merge), an
# enum value the schema does not list is an unknown field (so a required
# enum with such a value is missing), field numbers above 2**29 - 1 are
# refused. Stricter than Google protobuf: a known field with the wrong wire
# type and the group wire types 3/4 (and the undefined 6/7) are refused.

from compat import const
from ofd import ProtocolError
from ofd import schema

_FIELDS = schema.FIELDS
_ENUMS = schema.ENUMS
_NAMES = schema.NAMES

_T_INT32 = const(1)
_T_INT64 = const(2)
_T_UINT32 = const(3)
_T_UINT64 = const(4)
_T_BOOL = const(5)
_T_ENUM = const(6)
_T_STRING = const(7)
_T_BYTES = const(8)
_T_MESSAGE = const(9)

_L_REQUIRED = const(1)
_L_REPEATED = const(2)

_WT_VARINT = const(0)
_WT_I64 = const(1)
_WT_LEN = const(2)
_WT_I32 = const(5)

# Protocol 2.0.3 section 1: unsigned values are limited to the signed maximum.
MAX_U32 = const(2147483647)  # PROTOCOL §1: unsigned values stop at the signed maximum
MAX_U64 = 9223372036854775807
_MASK64 = 18446744073709551615
_TWO64 = 18446744073709551616

DEFAULT_MAX_DEPTH = const(16)
_MAX_FIELD = const(536870911)  # 2**29 - 1, the largest protobuf field number


def msg_handle(msg_type):
    # Accept a schema handle (int) or a dotted message name.
    if isinstance(msg_type, str):
        i = 0
        for n in _NAMES:
            if n == msg_type:
                return i
            i += 1
        raise ProtocolError("unknown message type", msg_type)
    if isinstance(msg_type, int) and 0 <= msg_type < len(_FIELDS):
        return msg_type
    raise ProtocolError("unknown message type", msg_type)


# ---------------------------------------------------------------- encoding


def _put_varint(out, v):
    while v > 0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def _int_value(kind, v, name):
    # Range-check an integer field value; return the unsigned varint to send.
    if not isinstance(v, int) or v is True or v is False:
        raise ProtocolError("not an integer", name)
    if kind == _T_UINT32:
        if v < 0 or v > MAX_U32:
            raise ProtocolError("out of range", name)
        return v
    if kind == _T_UINT64:
        if v < 0 or v > MAX_U64:
            raise ProtocolError("out of range", name)
        return v
    if kind == _T_INT64:
        if v < -MAX_U64 - 1 or v > MAX_U64:
            raise ProtocolError("out of range", name)
    elif v < -2147483648 or v > 2147483647:  # int32 and enum
        raise ProtocolError("out of range", name)
    # negative int32/int64/enum: 64-bit two's complement, a 10-byte varint
    return v + _TWO64 if v < 0 else v


def _enc_value(out, num, kind, sub, v, name, depth):
    if kind == _T_MESSAGE:
        # the body goes straight into out after a one-byte length (no copy
        # of it per nesting level); a body of 128 bytes or more then gets
        # its longer length in place of that byte
        _put_varint(out, (num << 3) | _WT_LEN)
        at = len(out)
        out.append(0)
        _enc_msg(out, sub, v, depth + 1)
        n = len(out) - at - 1
        if n < 0x80:
            out[at] = n
        else:
            ln = bytearray()
            _put_varint(ln, n)
            out[at:at + 1] = ln
    elif kind == _T_STRING:
        if not isinstance(v, str):
            raise ProtocolError("not a str", name)
        try:
            b = v.encode()
        except UnicodeError:  # a lone surrogate (CPython only)
            raise ProtocolError("bad utf-8", name)
        _put_varint(out, (num << 3) | _WT_LEN)
        _put_varint(out, len(b))
        out.extend(b)
    elif kind == _T_BYTES:
        if not isinstance(v, (bytes, bytearray)):
            raise ProtocolError("not bytes", name)
        _put_varint(out, (num << 3) | _WT_LEN)
        _put_varint(out, len(v))
        out.extend(v)
    elif kind == _T_BOOL:
        if v is not True and v is not False:
            raise ProtocolError("not a bool", name)
        _put_varint(out, num << 3)
        out.append(1 if v else 0)
    else:
        if kind == _T_ENUM and v not in _ENUMS[sub]:
            raise ProtocolError("bad enum value", name)
        u = _int_value(kind, v, name)
        _put_varint(out, num << 3)
        _put_varint(out, u)


def _enc_msg(out, m, msg, depth):
    if depth > DEFAULT_MAX_DEPTH:
        raise ProtocolError("too deep", _NAMES[m])
    if not isinstance(msg, dict):
        raise ProtocolError("not a dict", _NAMES[m])
    f = _FIELDS[m]
    used = 0
    i = 0
    n = len(f)
    while i < n:
        name = f[i + 1]
        code = f[i + 2]
        v = msg.get(name)
        if v is None:
            if code >> 4 == _L_REQUIRED:
                raise ProtocolError("missing required field", name)
            if name in msg:
                used += 1
        else:
            used += 1
            if code >> 4 == _L_REPEATED:
                if not isinstance(v, (list, tuple)):
                    raise ProtocolError("not a list", name)
                for x in v:
                    _enc_value(out, f[i], code & 15, f[i + 3], x, name, depth)
            else:
                _enc_value(out, f[i], code & 15, f[i + 3], v, name, depth)
        i += 4
    if used != len(msg):
        for k in msg:
            j = 1
            while j < n and f[j] != k:
                j += 4
            if j >= n:
                raise ProtocolError("unknown field", k)


def encode(msg_type, value):
    # Message dict -> protobuf bytes.
    out = bytearray()
    _enc_msg(out, msg_handle(msg_type), value, 0)
    return bytes(out)


# ---------------------------------------------------------------- decoding


def _get_varint(mv, pos, end):
    # -> (value, new position); at most 10 bytes, value kept to 64 bits
    v = 0
    shift = 0
    while True:
        if pos >= end:
            raise ProtocolError("truncated")
        b = mv[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            if shift == 63:
                v &= _MASK64
            return v, pos
        shift += 7
        if shift > 63:
            raise ProtocolError("bad varint")


def _skip(mv, pos, end, wt):
    # Skip an unknown field's value; return the new position.
    if wt == _WT_VARINT:
        return _get_varint(mv, pos, end)[1]
    if wt == _WT_I64:
        pos += 8
    elif wt == _WT_I32:
        pos += 4
    elif wt == _WT_LEN:
        n, pos = _get_varint(mv, pos, end)
        if n > end - pos:
            raise ProtocolError("truncated")
        pos += n
    else:
        raise ProtocolError("bad wire type", wt)
    if pos > end:
        raise ProtocolError("truncated")
    return pos


def _scalar(kind, v, name):
    # Wire varint -> field value, with protobuf's truncation rules.
    if kind == _T_UINT32:
        return v & 0xFFFFFFFF
    if kind == _T_UINT64:
        return v & _MASK64
    if kind == _T_BOOL:
        return v != 0
    if kind == _T_INT64:
        v &= _MASK64
        return v - _TWO64 if v > MAX_U64 else v
    if kind == _T_INT32 or kind == _T_ENUM:
        v &= 0xFFFFFFFF
        return v - 0x100000000 if v > 2147483647 else v
    raise ProtocolError("bad wire type", name)


def _put(out, name, rep, v):
    if rep:
        lst = out.get(name)
        if lst is None:
            out[name] = [v]
        else:
            lst.append(v)
    else:
        out[name] = v


def _dec_msg(mv, pos, end, m, out, depth, max_depth):
    if depth > max_depth:
        raise ProtocolError("too deep", _NAMES[m])
    f = _FIELDS[m]
    n = len(f)
    while pos < end:
        key = mv[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _get_varint(mv, pos, end)
        num = key >> 3
        wt = key & 7
        if num == 0 or num > _MAX_FIELD:
            raise ProtocolError("bad field number")
        j = 0
        while j < n and f[j] != num:
            j += 4
        if j >= n:
            pos = _skip(mv, pos, end, wt)
            continue
        name = f[j + 1]
        code = f[j + 2]
        kind = code & 15
        rep = code >> 4 == _L_REPEATED
        if kind >= _T_STRING:
            if wt != _WT_LEN:
                raise ProtocolError("wrong wire type", name)
            if pos < end and mv[pos] < 0x80:
                ln = mv[pos]
                pos += 1
            else:
                ln, pos = _get_varint(mv, pos, end)
            if ln > end - pos:
                raise ProtocolError("truncated", name)
            stop = pos + ln
            if kind == _T_MESSAGE:
                sub = None if rep else out.get(name)
                if sub is None:
                    sub = {}
                    _put(out, name, rep, sub)
                # a repeated-again singular message merges into the first
                _dec_msg(mv, pos, stop, f[j + 3], sub, depth + 1, max_depth)
            elif kind == _T_STRING:
                try:
                    s = bytes(mv[pos:stop]).decode()
                except UnicodeError:
                    raise ProtocolError("bad utf-8", name)
                _put(out, name, rep, s)
            else:
                _put(out, name, rep, bytes(mv[pos:stop]))
            pos = stop
        elif wt == _WT_VARINT:
            if pos < end and mv[pos] < 0x80 and kind != _T_BOOL:
                # one-byte value: the same for every integer kind
                v = mv[pos]
                pos += 1
            else:
                v, pos = _get_varint(mv, pos, end)
                v = _scalar(kind, v, name)
            if kind == _T_ENUM and v not in _ENUMS[f[j + 3]]:
                continue  # proto2 enums are closed: an unknown value is an unknown field
            if rep:
                _put(out, name, rep, v)
            else:
                out[name] = v
        elif wt == _WT_LEN and rep:
            # packed repeated scalars
            ln, pos = _get_varint(mv, pos, end)
            if ln > end - pos:
                raise ProtocolError("truncated", name)
            stop = pos + ln
            lst = out.get(name)
            if lst is None:
                lst = out[name] = []
            while pos < stop:
                v, pos = _get_varint(mv, pos, stop)
                v = _scalar(kind, v, name)
                if kind != _T_ENUM or v in _ENUMS[f[j + 3]]:
                    lst.append(v)
            if not lst:
                del out[name]
        else:
            raise ProtocolError("wrong wire type", name)


def _check_required(m, msg):
    f = _FIELDS[m]
    i = 0
    n = len(f)
    while i < n:
        code = f[i + 2]
        v = msg.get(f[i + 1])
        if v is None:
            if code >> 4 == _L_REQUIRED:
                raise ProtocolError("missing required field", f[i + 1])
        elif code & 15 == _T_MESSAGE:
            if code >> 4 == _L_REPEATED:
                for x in v:
                    _check_required(f[i + 3], x)
            else:
                _check_required(f[i + 3], v)
        i += 4


def decode(msg_type, data, max_depth=DEFAULT_MAX_DEPTH):
    # Protobuf bytes (bytes, bytearray or memoryview) -> message dict.
    m = msg_handle(msg_type)
    mv = memoryview(data)
    out = {}
    _dec_msg(mv, 0, len(mv), m, out, 0, max_depth)
    _check_required(m, out)
    return out
