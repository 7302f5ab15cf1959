"""Host-side access to the protocol 2.0.3 schema as Google protobuf classes.

``firmware/ofd/ofd203.proto`` is the single source of the message schema.
This helper compiles it with ``grpc_tools.protoc`` into ``build/pb/``
(recompiled whenever the ``.proto`` is newer than the generated module) and
returns the generated ``_pb2`` module::

    from tools.pb import load
    pb = load()
    req = pb.Request(command=pb.COMMAND_TICKET)
    data = req.SerializeToString()

Nested types are attributes of their parent, e.g.
``pb.TicketRequest.Item.Commodity``.
"""

import importlib.util
import os
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PROTO = os.path.join(ROOT, "firmware", "ofd", "ofd203.proto")
OUT_DIR = os.path.join(ROOT, "build", "pb")
MODULE_NAME = "ofd203_pb2"
PACKAGE = "kkm.ofd.v203"

def _stale(target):
    return not os.path.exists(target) or os.path.getmtime(target) < os.path.getmtime(PROTO)


def _protoc(args):
    from grpc_tools import protoc

    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main(["grpc_tools.protoc", "-I" + os.path.dirname(PROTO), "-I" + include] + args)
    if rc != 0:
        raise RuntimeError("protoc failed (%d) on %s" % (rc, PROTO))


def compile_proto(force=False):
    """Compile the .proto into build/pb/ if needed; return the module path."""
    target = os.path.join(OUT_DIR, MODULE_NAME + ".py")
    if force or _stale(target):
        os.makedirs(OUT_DIR, exist_ok=True)
        # Generate in a private directory and rename into place, so parallel
        # test workers never import a half-written module.
        tmp = tempfile.mkdtemp(dir=OUT_DIR)
        try:
            _protoc(["--python_out=" + tmp, os.path.basename(PROTO)])
            os.replace(os.path.join(tmp, MODULE_NAME + ".py"), target)
        finally:
            for f in os.listdir(tmp):
                os.remove(os.path.join(tmp, f))
            os.rmdir(tmp)
    return target


def descriptor_set_bytes():
    """Serialized FileDescriptorSet of the .proto (for schema generators)."""
    fd, path = tempfile.mkstemp(suffix=".pb")
    os.close(fd)
    try:
        _protoc(["--descriptor_set_out=" + path, os.path.basename(PROTO)])
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.remove(path)


def load():
    """Return the generated ofd203_pb2 module (compiled on demand, cached).

    The module is imported once per process; a .proto edited after that
    needs a new process (protobuf's descriptor pool cannot unload a file).
    """
    mod = sys.modules.get(MODULE_NAME)
    if mod is not None:
        return mod
    target = compile_proto()
    spec = importlib.util.spec_from_file_location(MODULE_NAME, target)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sys.modules[MODULE_NAME] = mod
    return mod


if __name__ == "__main__":
    print(compile_proto(force="--force" in sys.argv))


def all_messages(module):
    """Every message descriptor of ``module`` (a loaded ``_pb2``), nested ones included."""
    out = []

    def walk(d):
        out.append(d)
        for n in d.nested_types:
            walk(n)

    for d in module.DESCRIPTOR.message_types_by_name.values():
        walk(d)
    return out
