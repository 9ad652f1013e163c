#!/usr/bin/env python3
"""Torch-free helpers for the Swift checkpoint tests (Tests/SCANModelTests/Checkpoint*Tests.swift).

    python3 Tools/tests/checkpoint_writer.py expected OUT_DIR --fixtures DIR --source NAME
        Writes the model.safetensors and config.json that Tools/convert_checkpoint.py writes for the
        fixture checkpoint_tiny (its tensors and opt from checkpoint_tiny.safetensors / .json), using
        the converter's own functions (needs numpy, not torch).
    python3 Tools/tests/checkpoint_writer.py evil OUT_FILE --marker FILE [--layout legacy|zip]
        Writes a checkpoint in torch's layout whose pickle calls os.system (to create FILE) with
        Python's own pickle module: a reader that executes pickles would create FILE. With
        --as-os the global is spelled os.system (Python itself writes posix.system on Linux).
    python3 Tools/tests/checkpoint_writer.py prove FILE
        Unpickles a legacy FILE's object with Python's pickle (runs it: for the evil file only).
    python3 Tools/tests/checkpoint_writer.py synthetic OUT_FILE --layout legacy|zip --variant NAME
        Writes a SCAN checkpoint in torch's layout without torch (fake torch globals pickled by
        name), with the tensors of the fixture. Variants: full, old (options of early versions
        missing), py2 (Python 2 str opcodes, latin-1 bytes,
        Python 2.7's OrderedDict reduce, torch 0.3's _rebuild_tensor), double (float64 storages), strided
        (a transposed view of a shared storage), long (an int64 tensor), hugeopt (opt.batch_size = 1e300), small and small-py2 (a
        2-dimensional model of a few KB: fuzzing seeds).
"""

import argparse
import collections
import importlib.util
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(os.path.dirname(HERE), "convert_checkpoint.py")


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        out[name] = (info["dtype"], tuple(info["shape"]), data[a:b])
    return out


def fixture(fixtures):
    with open(os.path.join(fixtures, "checkpoint_tiny.json")) as f:
        info = json.load(f)
    tensors = read_safetensors(os.path.join(fixtures, "checkpoint_tiny.safetensors"))
    return info, tensors


def expected(args):
    import numpy as np
    spec = importlib.util.spec_from_file_location("convert_checkpoint", TOOL)
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    info, raw = fixture(args.fixtures)
    order = ["img_enc.fc.weight", "img_enc.fc.bias"] + sorted(n for n in raw if n.startswith("txt_enc."))
    tensors = {}
    for name in order:
        dtype, shape, data = raw[name]
        assert dtype == "F32", name
        tensors[name] = np.frombuffer(data, dtype="<f4").reshape(shape).copy()
    options = {k: conv.json_value(v) for k, v in info["opt_namespace"].items()}
    facts = conv.weight_facts(tensors, args.source)
    config = conv.resolve_options(options, facts, args.source)
    metadata = {"format": conv.FORMAT, "source": args.source}
    for key in ("epoch", "best_rsum", "Eiters"):
        metadata[key] = conv.scalar_string(info[key])
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "model.safetensors"), "wb") as f:
        f.write(conv.safetensors_bytes(tensors, metadata))
    with open(os.path.join(args.out, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------- torch's layouts, without torch


def fake_module(name, **functions):
    """A module registered under `name` whose functions pickle by that name (never called)."""
    mod = types.ModuleType(name)
    for fname, fn in functions.items():
        fn.__module__ = name
        fn.__qualname__ = fname
        fn.__name__ = fname
        setattr(mod, fname, fn)
    sys.modules[name] = mod
    return mod


def _never(*args):
    raise RuntimeError("a fake torch function was called")


class _StorageType:
    def __init__(self, name, fmt, size):
        self.name, self.fmt, self.size = name, fmt, size


def storage_types():
    torch = fake_module("torch")
    types_ = {}
    for name, fmt, size in (("FloatStorage", "<f", 4), ("DoubleStorage", "<d", 8), ("LongStorage", "<q", 8)):
        cls = type(name, (), {})
        cls.__module__ = "torch"
        cls.__qualname__ = name
        setattr(torch, name, cls)
        types_[name] = (cls, fmt, size)
    fake_module("torch._utils", _rebuild_tensor_v2=lambda *a: _never(), _rebuild_tensor=lambda *a: _never())
    return types_


class Storage:
    def __init__(self, key, kind, values):
        self.key, self.kind, self.values = key, kind, values


class Tensor:
    def __init__(self, storage, offset, shape, stride, v2=True):
        self.storage, self.offset, self.shape, self.stride, self.v2 = storage, offset, shape, stride, v2

    def __reduce__(self):
        utils = sys.modules["torch._utils"]
        if self.v2:
            return (utils._rebuild_tensor_v2,
                    (self.storage, self.offset, tuple(self.shape), tuple(self.stride), False, collections.OrderedDict()))
        return (utils._rebuild_tensor, (self.storage, self.offset, tuple(self.shape), tuple(self.stride)))


class Py2Str(bytes):
    """A Python 2 `str`: written with the (SHORT_)BINSTRING opcodes."""


class Pickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, f, types_, legacy):
        super().__init__(f, protocol=2)
        self.types_, self.legacy, self.storages = types_, legacy, collections.OrderedDict()

    def persistent_id(self, obj):
        if not isinstance(obj, Storage):
            return None
        self.storages[obj.key] = obj
        cls = self.types_[obj.kind][0]
        key = Py2Str(obj.key.encode()) if self.py2 else obj.key
        tag = Py2Str(b"storage") if self.py2 else "storage"
        loc = Py2Str(b"cpu") if self.py2 else "cpu"
        if self.legacy:
            return (tag, cls, key, loc, len(obj.values), None)
        return (tag, cls, key, loc, len(obj.values))

    def save_py2str(self, obj):
        data = bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[Py2Str] = save_py2str
    py2 = False

    def reducer_override(self, obj):
        # Python 2.7's OrderedDict.__reduce__: the items as one list of [key, value] lists, and the
        # instance dict (torch's _metadata) as state when there is one.
        if self.py2 and type(obj) is collections.OrderedDict:
            return (collections.OrderedDict, ([[k, v] for k, v in obj.items()],))
        return NotImplemented


def storage_bytes(types_, s):
    fmt, size = types_[s.kind][1], types_[s.kind][2]
    return b"".join(struct.pack(fmt, v) for v in s.values)


def save(obj, path, layout, py2=False, patch=lambda b: b):
    """torch.save's layouts; `patch` edits the object's pickle bytes before they are stored."""
    types_ = storage_types()
    buf = io.BytesIO()
    p = Pickler(buf, types_, legacy=(layout == "legacy"))
    p.py2 = py2
    if layout == "legacy":
        out = io.BytesIO()
        for header in (0x1950a86a20f9469cfc6c, 1001,
                       {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 8}}):
            pickle.dump(header, out, protocol=2)
        p.dump(obj)
        out.write(patch(buf.getvalue()))
        keys = sorted(p.storages)
        pickle.dump(keys, out, protocol=2)
        for k in keys:
            s = p.storages[k]
            out.write(struct.pack("<q", len(s.values)))
            out.write(storage_bytes(types_, s))
        with open(path, "wb") as f:
            f.write(out.getvalue())
    else:
        prefix = os.path.splitext(os.path.basename(path))[0]
        p.dump(obj)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr(prefix + "/data.pkl", patch(buf.getvalue()))
            z.writestr(prefix + "/byteorder", "little")
            for k, s in p.storages.items():
                z.writestr(prefix + "/data/" + k, storage_bytes(types_, s))
            z.writestr(prefix + "/version", "3\n")


def small_fixture(info):
    """A 2-dim model (img_dim 3, vocab 5, word_dim 2, uni-GRU): a few-KB checkpoint for fuzzing seeds."""
    shapes = {"img_enc.fc.weight": (2, 3), "img_enc.fc.bias": (2,), "txt_enc.embed.weight": (5, 2),
              "txt_enc.rnn.weight_ih_l0": (6, 2), "txt_enc.rnn.weight_hh_l0": (6, 2),
              "txt_enc.rnn.bias_ih_l0": (6,), "txt_enc.rnn.bias_hh_l0": (6,)}
    raw = {}
    for k, (name, shape) in enumerate(sorted(shapes.items())):
        n = 1
        for d in shape:
            n *= d
        raw[name] = ("F32", shape, struct.pack("<%df" % n, *[(k * 7 + i) / 8.0 - 1 for i in range(n)]))
    info = dict(info, opt_namespace=dict(info["opt_namespace"], embed_size=2, img_dim=3, vocab_size=5, word_dim=2, bi_gru=False))
    return info, raw


def synthetic(args):
    info, raw = fixture(args.fixtures)
    variant = args.variant
    if variant.startswith("small"):
        info, raw = small_fixture(info)
    opt = argparse.Namespace(**info["opt_namespace"])
    if variant == "old":
        for k in ("precomp_enc_type", "cross_attn", "bi_gru", "raw_feature_norm", "agg_func", "lambda_lse",
                  "lambda_softmax", "vocab_size", "no_txtnorm"):
            delattr(opt, k)
    kind = "DoubleStorage" if variant == "double" else "FloatStorage"
    fmt = "<d" if variant == "double" else "<f"
    model = [collections.OrderedDict(), collections.OrderedDict()]
    names = ["img_enc.fc.weight", "img_enc.fc.bias"] + sorted(n for n in raw if n.startswith("txt_enc."))
    if variant == "old":
        names = [n for n in names if not n.endswith("_reverse")]
        opt.bi_gru = False
        delattr(opt, "bi_gru")
    for i, name in enumerate(names):
        _, shape, data = raw[name]
        values = list(struct.unpack("<%df" % (len(data) // 4), data))
        stride = [1] * len(shape)
        for d in range(len(shape) - 2, -1, -1):
            stride[d] = stride[d + 1] * shape[d + 1]
        if variant == "strided" and len(shape) == 2:
            # Store the transpose and rebuild the tensor as its transposed (non-contiguous) view.
            rows, cols = shape
            values = [values[r * cols + c] for c in range(cols) for r in range(rows)]
            stride = [1, rows]
        storage = Storage(str(i), kind, values)
        key = name.split(".", 1)[1]
        if variant in ("py2", "small-py2"):
            key = Py2Str(key.encode())
        model[0 if name.startswith("img_enc.") else 1][key] = Tensor(storage, 0, shape, stride, v2=variant not in ("py2", "small-py2"))
    if variant == "hugeopt":
        opt.batch_size = 1e300  # a float no integer option can hold
    if variant == "long":
        model[0]["fc.steps"] = Tensor(Storage("99", "LongStorage", [1, 2, 3]), 0, [3], [1])
    ckpt = {"epoch": info["epoch"], "model": model, "best_rsum": info["best_rsum"], "opt": opt, "Eiters": info["Eiters"]}
    if variant in ("py2", "small-py2"):
        for k, v in list(vars(opt).items()):
            if isinstance(v, str):
                setattr(opt, k, Py2Str(v.encode("latin-1")))
        opt.logger_name = Py2Str(b"./runs/caf\xe9/log")
        ckpt = {Py2Str(k.encode()): v for k, v in ckpt.items()}
    save(ckpt, args.out, args.layout, py2=variant in ("py2", "small-py2"))


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch " + self.marker,))


def evil(args):
    ckpt = {"epoch": 1, "model": [collections.OrderedDict(), collections.OrderedDict()], "opt": Evil(args.marker)}

    def spell_os(data):
        # os.system pickles as posix.system on Linux; name it as a user would write it.
        assert data.count(b"cposix\nsystem\n") == 1
        return data.replace(b"cposix\nsystem\n", b"cos\nsystem\n")

    save(ckpt, args.out, args.layout, patch=spell_os if args.as_os else (lambda b: b))


def prove(args):
    """Unpickles a legacy file's object with Python's pickle: shows that the file really runs code."""
    with open(args.out, "rb") as f:
        for _ in range(3):
            pickle.load(f)
        u = pickle.Unpickler(f)
        u.persistent_load = lambda pid: None
        u.load()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["expected", "evil", "synthetic", "prove"])
    p.add_argument("out")
    p.add_argument("--fixtures", required=True)
    p.add_argument("--source", default="checkpoint.pth.tar")
    p.add_argument("--marker", default="/nonexistent/marker")
    p.add_argument("--layout", default="legacy", choices=["legacy", "zip"])
    p.add_argument("--variant", default="full")
    p.add_argument("--as-os", action="store_true")
    args = p.parse_args()
    {"expected": expected, "evil": evil, "synthetic": synthetic, "prove": prove}[args.command](args)


if __name__ == "__main__":
    main()
