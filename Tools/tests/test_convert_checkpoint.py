#!/usr/bin/env python3
"""Tests of Tools/convert_checkpoint.py.

    python3 Tools/tests/test_convert_checkpoint.py

Prints one line per test and a final line "N passed, M failed"; exits 1 if a test failed.
Without PyTorch it prints "skipped: torch is not installed" and exits 0. It needs torch, so it is
not part of Tools/test.sh: the suite covers the checkpoint path without torch (the Swift reader,
`scan-model convert`, and the converter's own functions in Tests/SCANModelTests/ConverterTests.swift).
The reference fixtures are taken from $SCAN_REFERENCE_DIR (default: ../shared/fixtures/reference
relative to the repository root).
"""

import argparse
import contextlib
import importlib.util
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import traceback
import zipfile
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOOL = os.path.join(REPO, "Tools", "convert_checkpoint.py")
REFERENCE = os.environ.get("SCAN_REFERENCE_DIR") or os.path.normpath(
    os.path.join(REPO, "..", "shared", "fixtures", "reference"))
NO_TORCH_MESSAGE = "convert_checkpoint.py needs PyTorch to read .pth.tar checkpoints: pip install torch"
SPECIALS = ["<pad>", "<start>", "<end>", "<unk>"]

try:
    import torch
except Exception:
    print("skipped: torch is not installed")
    sys.exit(0)
import numpy as np

try:
    import safetensors.numpy as st_numpy
    from safetensors import safe_open
except Exception:
    st_numpy = None

_spec = importlib.util.spec_from_file_location("convert_checkpoint", TOOL)
converter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(converter)


# --------------------------------------------------------------------------- helpers


def run(args):
    """The converter's main() in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = converter.main([str(a) for a in args])
        except SystemExit as e:
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


def run_cli(args, env=None):
    """The converter as a command, in a new Python process."""
    p = subprocess.run([sys.executable, TOOL] + [str(a) for a in args], capture_output=True, text=True,
                       env=env, cwd=REPO)
    return p.returncode, p.stdout, p.stderr


def write_vocab(path, n, specials=True):
    words = (SPECIALS if specials else []) + [f"word{i}" for i in range(n - (4 if specials else 0))]
    d = {"word2idx": {w: i for i, w in enumerate(words)},
         "idx2word": {str(i): w for i, w in enumerate(words)},
         "idx": len(words)}
    with open(path, "w") as f:
        json.dump(d, f)
    return path


def read_safetensors(path, strict=True):
    """(metadata, {name: (dtype, shape, bytes)}). strict: also check the layout our writer promises."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    text = blob[8:8 + n]
    pairs = json.loads(text.decode("utf-8"), object_pairs_hook=lambda kv: kv)
    header = OrderedDict(pairs)
    data = blob[8 + n:]
    metadata = dict(header.pop("__metadata__", []))
    names = list(header)
    tensors = {}
    end = 0
    for name in (names if strict else sorted(names, key=lambda k: dict(header[k])["data_offsets"][0])):
        info = dict(header[name])
        begin, stop = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert info["dtype"] in ("F32",) or not strict, f"{path}: {name} is {info['dtype']}"
        assert stop - begin == count * 4, f"{path}: {name}: offsets {begin}..{stop} for shape {info['shape']}"
        if strict:
            assert begin == end, f"{path}: {name} starts at {begin}, expected {end}"
        end = stop
        tensors[name] = (info["dtype"], tuple(info["shape"]), data[begin:stop])
    if strict:
        assert (8 + n) % 8 == 0, f"{path}: header length {n} leaves the data unaligned"
        body = text.rstrip(b" ")
        assert body.endswith(b"}") and len(text) - len(body) < 8, f"{path}: header not padded with < 8 spaces"
        assert [k for k, _ in pairs] == sorted(k for k, _ in pairs), f"{path}: header keys not sorted"
        assert list(metadata) == sorted(metadata), f"{path}: __metadata__ keys not sorted"
        assert end == len(data), f"{path}: {len(data)} data bytes, tensors cover {end}"
        assert all(isinstance(v, str) for v in metadata.values()), f"{path}: metadata values must be strings"
    return metadata, tensors


def f32_bytes(t):
    return t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()


def special_values():
    """-0, the smallest denormal, +inf, and a NaN with a payload: bit-exactness shows on them."""
    bits = np.array([0x80000000, 0x00000001, 0x7F800000, 0x7FC01234], dtype=np.uint32)
    return torch.from_numpy(bits.view(np.float32).copy())


def tiny_state(vocab=12, word_dim=5, embed=6, img_dim=7, bi=True, layers=1, weight_norm=False, seed=0,
               g_shape=()):
    """[img_enc state_dict, txt_enc state_dict] with the original's names and shapes."""
    gen = torch.Generator().manual_seed(seed)

    def rnd(*shape):
        return torch.empty(*shape).uniform_(-0.5, 0.5, generator=gen)

    img = OrderedDict()
    if weight_norm:
        img["fc.bias"] = rnd(embed)
        img["fc.weight_g"] = torch.full(g_shape, 1.75)
        img["fc.weight_v"] = rnd(embed, img_dim)
    else:
        img["fc.weight"] = rnd(embed, img_dim)
        img["fc.bias"] = rnd(embed)
        img["fc.bias"][:4] = special_values()
    txt = OrderedDict()
    txt["embed.weight"] = rnd(vocab, word_dim)
    for k in range(layers):
        for suffix in (["", "_reverse"] if bi else [""]):
            inp = word_dim if k == 0 else embed * (2 if bi else 1)
            txt[f"rnn.weight_ih_l{k}{suffix}"] = rnd(3 * embed, inp)
            txt[f"rnn.weight_hh_l{k}{suffix}"] = rnd(3 * embed, embed)
            txt[f"rnn.bias_ih_l{k}{suffix}"] = rnd(3 * embed)
            txt[f"rnn.bias_hh_l{k}{suffix}"] = rnd(3 * embed)
    return [img, txt]


def full_opt(**changes):
    """Every option of the original train.py (tiny sizes; several non-default values)."""
    d = OrderedDict(
        data_path="./data/", data_name="tiny_precomp", vocab_path="./vocab/", margin=0.3, num_epochs=20,
        batch_size=64, word_dim=5, embed_size=6, grad_clip=2.5, num_layers=1, learning_rate=0.0005,
        lr_update=10, workers=4, log_step=10, val_step=500, logger_name="./runs/tiny/log",
        model_name="./runs/tiny/checkpoint", resume="", max_violation=True, img_dim=7, no_imgnorm=False,
        no_txtnorm=True, raw_feature_norm="softmax", agg_func="Mean", cross_attn="i2t",
        precomp_enc_type="basic", bi_gru=True, lambda_lse=5.0, lambda_softmax=4.0, vocab_size=12)
    for k, v in changes.items():
        if v is DROP:
            del d[k]
        else:
            d[k] = v
    return argparse.Namespace(**d)


DROP = object()


def save(obj, path, legacy):
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    assert zipfile.is_zipfile(path) != legacy, f"{path}: not in the {'legacy' if legacy else 'zip'} format"
    return path


def checkpoint(model, opt, epoch=7, best_rsum=412.5, eiters=9876):
    return {"epoch": epoch, "model": model, "best_rsum": best_rsum, "opt": opt, "Eiters": eiters}


def leftovers(folder, keep):
    return sorted(set(os.listdir(folder)) - set(keep))


def check_tensors(model_dir, model, label):
    _, got = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    want = {}
    for prefix, sd in zip(("img_enc.", "txt_enc."), model):
        for k, t in sd.items():
            want[prefix + k] = t
    assert sorted(got) == sorted(want), f"{label}: tensors {sorted(got)} != {sorted(want)}"
    for name, t in want.items():
        dtype, shape, data = got[name]
        assert dtype == "F32", f"{label}: {name} is {dtype}"
        assert shape == tuple(t.shape), f"{label}: {name} has shape {shape}, expected {tuple(t.shape)}"
        assert data == f32_bytes(t), f"{label}: {name} differs"


def load_config(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        return json.load(f)


def expect_error(args, *needles, rc=1, cli=False):
    code, out, err = (run_cli if cli else run)(args)
    assert code == rc, f"exit status {code}, expected {rc}; stderr: {err.strip()}"
    assert "Traceback" not in err, f"a traceback instead of a message: {err}"
    for needle in needles:
        assert str(needle) in err, f"{needle!r} not in the message: {err.strip()}"
    return err


# --------------------------------------------------------------------------- tests

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def test_names_and_shapes_are_torchs():
    """The names this test file builds are the ones torch's modules (the original's) produce."""
    model = tiny_state(layers=2)
    gru = torch.nn.GRU(5, 6, 2, batch_first=True, bidirectional=True)
    want = {"embed.weight": (12, 5)}
    want.update({"rnn." + k: tuple(v.shape) for k, v in gru.state_dict().items()})
    assert {k: tuple(v.shape) for k, v in model[1].items()} == want
    lin = torch.nn.Linear(7, 6)
    assert {k: tuple(v.shape) for k, v in model[0].items()} == {"fc." + k: tuple(v.shape) for k, v in lin.state_dict().items()}
    wn = getattr(torch.nn.utils, "weight_norm", None)
    if wn is not None:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sd = wn(torch.nn.Linear(7, 6), dim=None).state_dict()
        model = tiny_state(weight_norm=True)
        assert {k: tuple(v.shape) for k, v in model[0].items()} == {"fc." + k: tuple(v.shape) for k, v in sd.items()}


@test
def test_tiny_bigru_checkpoint_both_formats():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "tiny_precomp_vocab.json"), 12)
        model, opt = tiny_state(), full_opt()
        for legacy in (True, False):
            label = "legacy" if legacy else "zip"
            ckpt = save(checkpoint(model, opt), os.path.join(tmp, f"model_best_{label}.pth.tar"), legacy)
            out = os.path.join(tmp, "models", label)
            rc, stdout, err = (run_cli if legacy else run)([ckpt, "--vocab", vocab, "--out", out])
            assert rc == 0, f"{label}: exit status {rc}: {err}"
            assert stdout.startswith("wrote "), stdout
            assert sorted(os.listdir(out)) == ["config.json", "model.safetensors", "vocab.json"]
            check_tensors(out, model, label)
            meta, _ = read_safetensors(os.path.join(out, "model.safetensors"))
            assert meta == {"format": "scan-swift-model", "source": os.path.basename(ckpt), "epoch": "7",
                            "best_rsum": "412.5", "Eiters": "9876"}, meta
            config = load_config(out)
            for k, v in vars(opt).items():
                assert k in config and config[k] == v and type(config[k]) is type(v), f"{label}: config[{k!r}] = {config.get(k)!r}, opt has {v!r}"
            assert config["format"] == "scan-swift-model" and config["format_version"] == 1
            assert config["filled_defaults"] == []
            assert set(config) == set(vars(opt)) | {"format", "format_version", "filled_defaults"}
            with open(vocab, "rb") as a, open(os.path.join(out, "vocab.json"), "rb") as b:
                assert a.read() == b.read(), "vocab.json is not a copy of the vocabulary"
        assert leftovers(os.path.join(tmp, "models"), ["legacy", "zip"]) == [], "temporary folders left behind"


@test
def test_old_checkpoint_gets_defaults():
    later = ["precomp_enc_type", "cross_attn", "bi_gru", "raw_feature_norm", "agg_func", "lambda_lse",
             "lambda_softmax", "vocab_size", "no_txtnorm"]
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 12)
        model = tiny_state(bi=False)
        opt = full_opt(**{k: DROP for k in later})
        ckpt = save(checkpoint(model, opt), os.path.join(tmp, "old.pth.tar"), legacy=True)
        out = os.path.join(tmp, "m")
        rc, stdout, err = run([ckpt, "--vocab", vocab, "--out", out])
        assert rc == 0, err
        check_tensors(out, model, "old")
        config = load_config(out)
        assert sorted(config["filled_defaults"]) == sorted(later), config["filled_defaults"]
        want = {"precomp_enc_type": "basic", "cross_attn": "t2i", "bi_gru": False, "raw_feature_norm": "clipped_l2norm",
                "agg_func": "LogSumExp", "lambda_lse": 6.0, "lambda_softmax": 9.0, "vocab_size": 12, "no_txtnorm": False}
        for k, v in want.items():
            assert config[k] == v and type(config[k]) is type(v), f"config[{k!r}] = {config[k]!r}, expected {v!r}"
        assert config["embed_size"] == 6 and config["margin"] == 0.3, "options present in opt must be kept"
        assert "filled" in stdout and "vocab_size=12" in stdout, stdout

        # Without the sizes and bi_gru the weights decide (a bi-GRU checkpoint must not get bi_gru False).
        model = tiny_state(bi=True)
        opt = full_opt(bi_gru=DROP, embed_size=DROP, word_dim=DROP, img_dim=DROP, num_layers=DROP)
        ckpt = save(checkpoint(model, opt), os.path.join(tmp, "old2.pth.tar"), legacy=False)
        rc, _, err = run([ckpt, "--vocab", vocab, "--out", os.path.join(tmp, "m2")])
        assert rc == 0, err
        config = load_config(os.path.join(tmp, "m2"))
        assert (config["bi_gru"], config["embed_size"], config["word_dim"], config["img_dim"], config["num_layers"]) == (True, 6, 5, 7, 1), config
        assert sorted(config["filled_defaults"]) == ["bi_gru", "embed_size", "img_dim", "num_layers", "word_dim"]


@test
def test_bi_gru_inconsistency_is_refused():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 12)
        ckpt = save(checkpoint(tiny_state(bi=True), full_opt(bi_gru=False)), os.path.join(tmp, "a.pth.tar"), True)
        expect_error([ckpt, "--vocab", vocab, "--out", os.path.join(tmp, "m")], "a.pth.tar", "bi_gru", "_reverse")
        ckpt = save(checkpoint(tiny_state(bi=False), full_opt(bi_gru=True)), os.path.join(tmp, "b.pth.tar"), True)
        expect_error([ckpt, "--vocab", vocab, "--out", os.path.join(tmp, "m")], "b.pth.tar", "bi_gru", "unidirectional")
        assert leftovers(tmp, ["v.json", "a.pth.tar", "b.pth.tar"]) == [], "a model folder appeared after an error"


@test
def test_option_and_weight_mismatch_is_refused():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 12)
        for key, value in (("embed_size", 8), ("img_dim", 9), ("word_dim", 300), ("vocab_size", 13),
                           ("precomp_enc_type", "weight_norm"), ("num_layers", 2)):
            ckpt = save(checkpoint(tiny_state(), full_opt(**{key: value})), os.path.join(tmp, "c.pth.tar"), False)
            expect_error([ckpt, "--vocab", vocab, "--out", os.path.join(tmp, "m")], "c.pth.tar", f"opt.{key}", repr(value))
        # A GRU tensor with a wrong shape.
        model = tiny_state()
        model[1]["rnn.weight_hh_l0_reverse"] = torch.zeros(18, 5)
        ckpt = save(checkpoint(model, full_opt()), os.path.join(tmp, "d.pth.tar"), False)
        expect_error([ckpt, "--vocab", vocab, "--out", os.path.join(tmp, "m")], "txt_enc.rnn.weight_hh_l0_reverse", "[18, 5]")
        assert not os.path.exists(os.path.join(tmp, "m"))


@test
def test_double_weights_are_written_as_float32():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 12)
        model = [OrderedDict((k, v.double() * (1 + 1e-12)) for k, v in sd.items()) for sd in tiny_state()]
        ckpt = save(checkpoint(model, full_opt()), os.path.join(tmp, "d.pth.tar"), False)
        out = os.path.join(tmp, "m")
        rc, _, err = run([ckpt, "--vocab", vocab, "--out", out])
        assert rc == 0, err
        check_tensors(out, model, "double")  # compares with torch's own float64 -> float32 rounding


class _Py2Str(bytes):
    """A Python 2 `str`: pickled with the STRING opcodes that Python 3 decodes with `encoding`."""


class _Py2Pickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2str(self, obj):
        data = bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[_Py2Str] = save_py2str


class _Py2PickleModule:
    Pickler = _Py2Pickler
    dump = staticmethod(pickle.dump)


@test
def test_python2_pickled_legacy_checkpoint():
    """Keys and strings as Python 2 wrote them; a non-UTF-8 byte in opt needs encoding='latin1'."""
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 12)
        model = [OrderedDict((_Py2Str(k.encode()), v) for k, v in sd.items()) for sd in tiny_state()]
        opt = argparse.Namespace()
        for k, v in vars(full_opt()).items():
            setattr(opt, k, _Py2Str(v.encode()) if isinstance(v, str) else v)
        opt.logger_name = _Py2Str(b"./runs/caf\xe9/log")
        ckpt = {_Py2Str(b"epoch"): 2, _Py2Str(b"model"): model, _Py2Str(b"best_rsum"): 300.25,
                _Py2Str(b"opt"): opt, _Py2Str(b"Eiters"): 55}
        path = os.path.join(tmp, "py2.pth.tar")
        with open(path, "wb") as f:
            torch.save(ckpt, f, pickle_module=_Py2PickleModule, pickle_protocol=2,
                       _use_new_zipfile_serialization=False)
        try:
            torch.load(path, map_location="cpu", weights_only=False)
            needs_latin1 = False
        except UnicodeDecodeError:
            needs_latin1 = True
        assert needs_latin1, "the test file does not exercise the latin1 retry"
        out = os.path.join(tmp, "m")
        rc, _, err = run([path, "--vocab", vocab, "--out", out])
        assert rc == 0, err
        check_tensors(out, tiny_state(), "py2")
        config = load_config(out)
        assert config["logger_name"] == "./runs/caf\u00e9/log" and config["cross_attn"] == "i2t", config
        meta, _ = read_safetensors(os.path.join(out, "model.safetensors"))
        assert (meta["epoch"], meta["best_rsum"], meta["Eiters"]) == ("2", "300.25", "55"), meta


@test
def test_existing_output_folder():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 12)
        ckpt = save(checkpoint(tiny_state(), full_opt()), os.path.join(tmp, "c.pth.tar"), False)
        out = os.path.join(tmp, "m")
        os.makedirs(out)
        rc, _, err = run([ckpt, "--vocab", vocab, "--out", out])  # empty: fine
        assert rc == 0, err
        with open(os.path.join(out, "note.txt"), "w") as f:
            f.write("keep")
        expect_error([ckpt, "--vocab", vocab, "--out", out], out, "--force")
        assert os.path.exists(os.path.join(out, "note.txt")), "a refused conversion touched the folder"
        rc, _, err = run([ckpt, "--vocab", vocab, "--out", out, "--force"])
        assert rc == 0, err
        assert sorted(os.listdir(out)) == ["config.json", "model.safetensors", "vocab.json"]
        assert leftovers(tmp, ["v.json", "c.pth.tar", "m"]) == [], "temporary folders left behind"


@test
def test_vocab_folder_of_the_original():
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "vocab"))
        vocab = write_vocab(os.path.join(tmp, "vocab", "tiny_precomp_vocab.json"), 12)
        write_vocab(os.path.join(tmp, "vocab", "other_precomp_vocab.json"), 30)
        ckpt = save(checkpoint(tiny_state(), full_opt()), os.path.join(tmp, "c.pth.tar"), True)
        out = os.path.join(tmp, "m")
        rc, _, err = run([ckpt, "--vocab", os.path.join(tmp, "vocab"), "--out", out])
        assert rc == 0, err
        with open(vocab, "rb") as a, open(os.path.join(out, "vocab.json"), "rb") as b:
            assert a.read() == b.read()
        ckpt = save(checkpoint(tiny_state(), full_opt(data_name="coco_precomp")), os.path.join(tmp, "c2.pth.tar"), True)
        expect_error([ckpt, "--vocab", os.path.join(tmp, "vocab"), "--out", os.path.join(tmp, "m2")], "coco_precomp_vocab.json")


@test
def test_fixture_checkpoints():
    case = os.path.join(REFERENCE, "checkpoint_tiny.json")
    assert os.path.isfile(case), f"no fixture {case} (set SCAN_REFERENCE_DIR)"
    with open(case) as f:
        info = json.load(f)
    _, ref = read_safetensors(os.path.join(REFERENCE, "checkpoint_tiny.safetensors"), strict=False)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "tiny_vocab.json"), info["opt_namespace"]["vocab_size"])
        for name, legacy in (("checkpoint_tiny_legacy.pth.tar", True), ("checkpoint_tiny_zip.pth.tar", False)):
            path = os.path.join(REFERENCE, name)
            assert zipfile.is_zipfile(path) != legacy, f"{name} is not in the expected serialisation"
            out = os.path.join(tmp, name + ".model")
            rc, _, err = run([path, "--vocab", vocab, "--out", out])
            assert rc == 0, f"{name}: {err}"
            st = os.path.join(out, "model.safetensors")
            meta, got = read_safetensors(st)
            assert sorted(got) == sorted(ref), f"{name}: tensors {sorted(got)} != {sorted(ref)}"
            for t, (dtype, shape, data) in ref.items():
                assert got[t] == (dtype, shape, data), f"{name}: {t} differs from checkpoint_tiny.safetensors"
            assert meta == {"format": "scan-swift-model", "source": name, "epoch": str(info["epoch"]),
                            "best_rsum": str(info["best_rsum"]), "Eiters": str(info["Eiters"])}, meta
            config = load_config(out)
            extra = {"format": "scan-swift-model", "format_version": 1, "filled_defaults": []}
            assert config == dict(info["opt_namespace"], **extra), f"{name}: config.json differs from opt_namespace"
            if st_numpy is not None:  # the reference implementation of the format agrees
                loaded = st_numpy.load_file(st)
                assert sorted(loaded) == sorted(ref)
                for t, arr in loaded.items():
                    assert arr.dtype == np.float32 and arr.tobytes() == ref[t][2], t
                with safe_open(st, framework="numpy") as f:
                    assert f.metadata() == meta


@test
def test_missing_checkpoint_file():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 40)
        missing = os.path.join(tmp, "nowhere", "model_best.pth.tar")
        expect_error([missing, "--vocab", vocab, "--out", os.path.join(tmp, "m")], missing, "no such", cli=True)
        expect_error([os.path.join(REFERENCE, "checkpoint_tiny_zip.pth.tar"), "--vocab", os.path.join(tmp, "nope.json"),
                      "--out", os.path.join(tmp, "m")], "nope.json")
        assert leftovers(tmp, ["v.json"]) == []


@test
def test_vocab_size_mismatch():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "short_vocab.json"), 39)
        expect_error([os.path.join(REFERENCE, "checkpoint_tiny_legacy.pth.tar"), "--vocab", vocab, "--out",
                      os.path.join(tmp, "m")], "short_vocab.json", "39", "40", "checkpoint_tiny_legacy.pth.tar")
        assert leftovers(tmp, ["short_vocab.json"]) == []


@test
def test_vocab_without_specials():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "plain_vocab.json"), 40, specials=False)
        expect_error([os.path.join(REFERENCE, "checkpoint_tiny_zip.pth.tar"), "--vocab", vocab, "--out",
                      os.path.join(tmp, "m")], "plain_vocab.json", "<pad>")
        with open(os.path.join(tmp, "bad.json"), "w") as f:
            json.dump(["<pad>", "<start>"], f)
        expect_error([os.path.join(REFERENCE, "checkpoint_tiny_zip.pth.tar"), "--vocab", os.path.join(tmp, "bad.json"),
                      "--out", os.path.join(tmp, "m")], "bad.json", "word2idx")
        assert not os.path.exists(os.path.join(tmp, "m"))


@test
def test_not_a_checkpoint():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 40)
        out = os.path.join(tmp, "m")
        text = os.path.join(tmp, "notes.pth.tar")
        with open(text, "w") as f:
            f.write("this is not a checkpoint\n")
        expect_error([text, "--vocab", vocab, "--out", out], text, "not a PyTorch checkpoint", cli=True)
        junk = os.path.join(tmp, "junk.pth.tar")
        with open(junk, "wb") as f:
            f.write(bytes(range(256)) * 4)
        expect_error([junk, "--vocab", vocab, "--out", out], junk, "not a PyTorch checkpoint")
        bare = os.path.join(tmp, "tensor.pth")
        torch.save(torch.zeros(3), bare)
        expect_error([bare, "--vocab", vocab, "--out", out], bare, "Tensor")
        nomodel = os.path.join(tmp, "nomodel.pth.tar")
        torch.save({"epoch": 1, "opt": full_opt()}, nomodel)
        expect_error([nomodel, "--vocab", vocab, "--out", out], nomodel, "no 'model'")
        state = os.path.join(tmp, "state.pth")
        torch.save({"model": tiny_state()[0]}, state)
        expect_error([state, "--vocab", vocab, "--out", out], state, "'model'")
        assert not os.path.exists(out)


@test
def test_weight_norm_scalar_g_keeps_shape():
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_vocab(os.path.join(tmp, "v.json"), 12)
        opt = full_opt(precomp_enc_type="weight_norm")
        for legacy in (True, False):
            model = tiny_state(weight_norm=True)
            assert model[0]["fc.weight_g"].dim() == 0
            ckpt = save(checkpoint(model, opt), os.path.join(tmp, f"wn{legacy}.pth.tar"), legacy)
            out = os.path.join(tmp, f"m{legacy}")
            rc, _, err = run([ckpt, "--vocab", vocab, "--out", out])
            assert rc == 0, err
            check_tensors(out, model, "weight_norm")
            _, got = read_safetensors(os.path.join(out, "model.safetensors"))
            assert got["img_enc.fc.weight_g"] == ("F32", (), struct.pack("<f", 1.75)), got["img_enc.fc.weight_g"]
            assert load_config(out)["precomp_enc_type"] == "weight_norm"
        # torch 0.3 stored weight_norm(dim=None)'s g with shape [1]: written as the 0-dim scalar.
        model = tiny_state(weight_norm=True, g_shape=(1,))
        ckpt = save(checkpoint(model, opt), os.path.join(tmp, "wn03.pth.tar"), True)
        rc, _, err = run([ckpt, "--vocab", vocab, "--out", os.path.join(tmp, "m03")])
        assert rc == 0, err
        _, got = read_safetensors(os.path.join(tmp, "m03", "model.safetensors"))
        assert got["img_enc.fc.weight_g"] == ("F32", (), struct.pack("<f", 1.75))
        # weight_norm weights with opt.precomp_enc_type basic are refused.
        ckpt = save(checkpoint(tiny_state(weight_norm=True), full_opt()), os.path.join(tmp, "wnb.pth.tar"), False)
        expect_error([ckpt, "--vocab", vocab, "--out", os.path.join(tmp, "mb")], "precomp_enc_type", "weight_norm")


@test
def test_without_torch():
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "torch"))
        with open(os.path.join(tmp, "torch", "__init__.py"), "w") as f:
            f.write("raise ImportError('No module named torch')\n")
        vocab = write_vocab(os.path.join(tmp, "v.json"), 40)
        env = dict(os.environ, PYTHONPATH=tmp)
        code, out, err = run_cli([os.path.join(REFERENCE, "checkpoint_tiny_zip.pth.tar"), "--vocab", vocab,
                                  "--out", os.path.join(tmp, "m")], env=env)
        assert code == 2, f"exit status {code}; stderr: {err}"
        assert err.strip() == NO_TORCH_MESSAGE, err
        assert not os.path.exists(os.path.join(tmp, "m"))


def main():
    passed = failed = 0
    for fn in TESTS:
        try:
            fn()
        except Exception as e:
            failed += 1
            detail = str(e) if isinstance(e, AssertionError) and str(e) else traceback.format_exc()
            print(f"FAIL {fn.__name__}: {detail}")
        else:
            passed += 1
            print(f"ok   {fn.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
