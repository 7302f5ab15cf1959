"""Firmware codec vs Google protobuf on random valid messages of every type.

Both sides use the same .proto (tools/pb.py compiles it; ofd.schema is
generated from it). For each message type, hypothesis builds random valid
message dicts from the Google descriptor and checks:

* firmware encode == Google SerializeToString, byte for byte;
* Google parses the firmware bytes into an equal message, which is initialized;
* firmware decode of Google's bytes gives back the same dict.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ofd
from ofd import codec
from tools.pb import PACKAGE, all_messages, load

pb = load()

T = pb.Money.DESCRIPTOR.fields[0]  # any FieldDescriptor, for the TYPE_* constants

SCALARS = {
    T.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    T.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    # protocol section 1: unsigned values are limited to the signed maximum
    T.TYPE_UINT32: st.integers(0, 2**31 - 1),
    T.TYPE_UINT64: st.integers(0, 2**63 - 1),
    T.TYPE_BOOL: st.booleans(),
    T.TYPE_STRING: st.text(max_size=12),
    T.TYPE_BYTES: st.binary(max_size=12),
}

_cache = {}


def message_strategy(desc):
    """Random valid dicts for a Google message descriptor (firmware conventions)."""
    if desc.full_name in _cache:
        return _cache[desc.full_name]
    required = {}
    optional = {}
    for fd in desc.fields:
        if fd.type == T.TYPE_MESSAGE:
            one = st.deferred(lambda d=fd.message_type: message_strategy(d))
        elif fd.type == T.TYPE_ENUM:
            one = st.sampled_from(sorted(v.number for v in fd.enum_type.values))
        else:
            one = SCALARS[fd.type]
        if fd.is_repeated:
            optional[fd.name] = st.lists(one, min_size=1, max_size=2)
        elif fd.is_required:
            required[fd.name] = one
        else:
            optional[fd.name] = one
    s = st.fixed_dictionaries(required, optional=optional)
    _cache[desc.full_name] = s
    return s


def to_google(cls, d):
    msg = cls()
    _fill(msg, d)
    return msg


def _fill(msg, d):
    for fd in msg.DESCRIPTOR.fields:
        if fd.name not in d:
            continue
        v = d[fd.name]
        if fd.is_repeated:
            box = getattr(msg, fd.name)
            if fd.type == T.TYPE_MESSAGE:
                for x in v:
                    _fill(box.add(), x)
            else:
                box.extend(v)
        elif fd.type == T.TYPE_MESSAGE:
            sub = getattr(msg, fd.name)
            sub.SetInParent()
            _fill(sub, v)
        else:
            setattr(msg, fd.name, v)


def _cls(desc):
    c = pb
    for part in desc.full_name[len(PACKAGE) + 1 :].split("."):
        c = getattr(c, part)
    return c


def _check(desc, d):
    name = desc.full_name[len(PACKAGE) + 1 :]
    cls = _cls(desc)
    g = to_google(cls, d)
    assert g.IsInitialized()
    google_bytes = g.SerializeToString()
    fw_bytes = codec.encode(name, d)
    # firmware encode -> Google: byte-for-byte and field-for-field
    assert fw_bytes == google_bytes
    parsed = cls.FromString(fw_bytes)
    assert parsed.IsInitialized() and parsed == g
    # Google encode -> firmware decode
    assert codec.decode(name, google_bytes) == d


TOP = [d for d in all_messages(pb) if d.containing_type is None]
NESTED = [d for d in all_messages(pb) if d.containing_type is not None]

FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("desc", TOP + NESTED, ids=lambda d: d.full_name[len(PACKAGE) + 1 :])
@FAST
@given(data=st.data())
def test_kz_4_every_type_agrees_with_google(desc, data):
    _check(desc, data.draw(message_strategy(desc)))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(d=message_strategy(pb.Request.DESCRIPTOR))
def test_kz_4_request_agrees_with_google(d):
    _check(pb.Request.DESCRIPTOR, d)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(d=message_strategy(pb.Response.DESCRIPTOR))
def test_kz_4_response_agrees_with_google(d):
    _check(pb.Response.DESCRIPTOR, d)


def test_google_packed_repeated_is_read():
    # Another encoder may pack repeated scalars; the firmware must read them.
    roles = [1, 2, 3, 1]
    packed = bytes([0x08, 0x00, 0x22, len(roles)]) + bytes(roles)
    g = pb.AuthResponse.FromString(packed)
    assert list(g.roles) == roles
    assert codec.decode("AuthResponse", packed) == {"result": 0, "roles": roles}


def test_missing_required_is_refused_like_google():
    part = to_google(pb.Money, {"bills": 5}).SerializePartialToString()
    assert not pb.Money.FromString(part).IsInitialized()
    with pytest.raises(ofd.ProtocolError):
        codec.decode("Money", part)


def test_real_ticket_response_shape():
    # Shape of a captured 2.0.3 answer (protocol facts, section 7).
    qr = b"http://consumer.test-oofd.kz?i=4228143549&f=010101234567&s=696.90&t=20280629T170916"
    d = {
        "command": pb.COMMAND_TICKET,
        "result": {"result_code": 0},
        "ticket": {"ticket_number": "4228143549", "qr_code": qr},
    }
    g = to_google(pb.Response, d)
    assert codec.decode("Response", g.SerializeToString()) == d
    assert codec.encode("Response", d) == g.SerializeToString()


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(18, 2**32 - 1),
    kkm_id=st.integers(0, 2**32 - 1),
    token=st.integers(0, 2**32 - 1),
    reqnum=st.integers(0, 2**16 - 1),
)
def test_kz_20_header_agrees_with_struct(size, kkm_id, token, reqnum):
    import struct

    from ofd import header

    raw = header.pack(size, kkm_id, token, reqnum)
    assert raw == struct.pack("<HHIIIH", 0x81A2, 203, size, kkm_id, token, reqnum)
    h = header.unpack(raw, 203, None)
    assert (h.version, h.size, h.id, h.token, h.reqnum) == (203, size, kkm_id, token, reqnum)


def test_unknown_enum_values_read_like_google():
    # proto2 closed enums: an unlisted value is an unknown field in both
    for data, name in ((bytes([0x08, 0, 0x20, 2, 0x20, 9, 0x20, 3]), "AuthResponse"),
                       (bytes([0x08, 0, 0x22, 4, 1, 0x80, 0x01, 3]), "AuthResponse"),
                       (bytes([0x08, 1, 0x08, 9]), "Request")):
        g = getattr(pb, name).FromString(data)
        g.DiscardUnknownFields()
        assert codec.decode(name, data) == codec.decode(name, g.SerializeToString()), data
    g = pb.Request.FromString(bytes([0x08, 9]))
    assert not g.IsInitialized()
    with pytest.raises(ofd.ProtocolError):
        codec.decode("Request", bytes([0x08, 9]))


def test_field_number_limit_like_google():
    from google.protobuf.message import DecodeError

    over = bytes([0x08, 1, 0x10, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 1])
    with pytest.raises(DecodeError):
        pb.Money.FromString(over)
    with pytest.raises(ofd.ProtocolError):
        codec.decode("Money", over)


def test_lone_surrogate_is_a_protocol_error_on_encode():
    with pytest.raises(ofd.ProtocolError) as e:
        codec.encode("Operator", {"code": 1, "name": "a\ud800"})
    assert e.value.args == ("bad utf-8", "name")
