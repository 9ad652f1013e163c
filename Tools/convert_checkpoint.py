#!/usr/bin/env python3
"""Convert an original SCAN checkpoint into a scan-swift model directory.

    python3 Tools/convert_checkpoint.py runs/f30k_scan/model_best.pth.tar \\
        --vocab vocab/f30k_precomp_vocab.json --out Models/f30k_t2i

The checkpoint is the dict the original train.py saves with torch.save:
{'epoch', 'model': [img_enc.state_dict(), txt_enc.state_dict()], 'best_rsum',
'opt': argparse.Namespace, 'Eiters'}. Both of torch's serialisations are read
(the pre-1.6 one that torch 0.3/0.4 wrote, and the current zip one), including
checkpoints pickled by Python 2 (retried with encoding='latin1').

The model directory (DESIGN.md section 6) holds:
  model.safetensors  every tensor as F32, named img_enc.<name> / txt_enc.<name>
  config.json        every option of `opt` (original names), options that old
                     checkpoints lack filled in (listed in "filled_defaults"),
                     "format": "scan-swift-model", "format_version": 1
  vocab.json         the vocabulary in the original layout
                     {"word2idx": ..., "idx2word": ..., "idx": N}

It is written to a temporary folder beside DIR and renamed at the end, so a
half-written model directory never appears.

Loading a checkpoint unpickles it (weights_only=False, because `opt` is a
pickled argparse.Namespace): convert only checkpoints you trust.

Exit status: 0 done, 1 bad input (the message names the file and the problem),
2 PyTorch is missing or the command line is wrong.
"""

import argparse
import json
import math
import os
import shutil
import struct
import sys
import tempfile
import warnings

import numpy as np

FORMAT = "scan-swift-model"
FORMAT_VERSION = 1
SPECIALS = ("<pad>", "<start>", "<end>", "<unk>")
NO_TORCH_MESSAGE = "convert_checkpoint.py needs PyTorch to read .pth.tar checkpoints: pip install torch"

# The defaults of the original train.py for the options that model or training
# depend on. Checkpoints written before an option existed lack it. Options that
# the weights determine (embed_size, img_dim, word_dim, vocab_size, num_layers,
# bi_gru, precomp_enc_type) are taken from the weights instead when missing;
# for a checkpoint of the original code that gives these same defaults.
TRAIN_DEFAULTS = {
    "embed_size": 1024,
    "word_dim": 300,
    "img_dim": 2048,
    "num_layers": 1,
    "bi_gru": False,
    "no_imgnorm": False,
    "no_txtnorm": False,
    "precomp_enc_type": "basic",
    "raw_feature_norm": "clipped_l2norm",
    "agg_func": "LogSumExp",
    "cross_attn": "t2i",
    "lambda_lse": 6.0,
    "lambda_softmax": 9.0,
    "margin": 0.2,
    "max_violation": False,
    "grad_clip": 2.0,
    "learning_rate": 0.0002,
    "lr_update": 15,
    "num_epochs": 30,
    "batch_size": 128,
}

KNOWN_VALUES = {
    "raw_feature_norm": ("clipped_l2norm", "l2norm", "clipped_l1norm", "l1norm", "clipped", "no_norm", "softmax"),
    "agg_func": ("LogSumExp", "Mean", "Max", "Sum"),
    "cross_attn": ("t2i", "i2t"),
}

# Keys of config.json that are not options of the original.
RESERVED_KEYS = ("format", "format_version", "filled_defaults")


class ConversionError(Exception):
    """A problem with the input, reported as one line without a traceback."""


class MissingTorch(Exception):
    pass


# --------------------------------------------------------------------------- loading


def import_torch():
    try:
        import torch  # noqa: F401  (imported here: --help and input checks work without it)
    except Exception as e:  # ImportError, or a broken installation (OSError from a shared library)
        raise MissingTorch(str(e))
    return torch


def torch_load(torch, path, **extra):
    kwargs = dict(map_location="cpu", weights_only=False, **extra)
    try:
        return torch.load(path, **kwargs)
    except TypeError as e:
        if "weights_only" not in str(e):  # torch < 1.13 has no weights_only argument
            raise
        del kwargs["weights_only"]
        return torch.load(path, **kwargs)


def load_checkpoint(torch, path):
    """torch.load the file; Python-2 pickles with non-UTF-8 byte strings are retried as latin1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            try:
                obj = torch_load(torch, path)
            except UnicodeDecodeError:
                obj = torch_load(torch, path, encoding="latin1")
        except Exception as e:
            reason = " ".join(f"{type(e).__name__}: {e}".split())
            if len(reason) > 300:
                reason = reason[:300] + "..."
            raise ConversionError(
                f"{path}: not a PyTorch checkpoint that torch {torch.__version__} can read ({reason})")
    if not isinstance(obj, dict):
        raise ConversionError(
            f"{path}: not a SCAN checkpoint: torch.load gave a {type(obj).__name__}, "
            "expected the dict that the original train.py saves ('model', 'opt', 'epoch', ...)")
    if "model" not in obj:
        keys = ", ".join(repr(k) for k in list(obj.keys())[:12]) or "none"
        raise ConversionError(
            f"{path}: not a SCAN checkpoint: it has no 'model' entry (its keys: {keys}); "
            "expected 'model' = [img_enc state_dict, txt_enc state_dict]")
    return obj


def is_mapping(x):
    return hasattr(x, "keys") and hasattr(x, "__getitem__")


def state_dict_items(model, path):
    """(prefixed name, tensor) pairs of checkpoint['model']."""
    if isinstance(model, (list, tuple)):
        if len(model) != 2 or not all(is_mapping(sd) for sd in model):
            raise ConversionError(
                f"{path}: 'model' is a {type(model).__name__} of {len(model)} entries; "
                "expected [img_enc state_dict, txt_enc state_dict]")
        return [("img_enc." + str(k), v) for k, v in model[0].items()] + \
               [("txt_enc." + str(k), v) for k, v in model[1].items()]
    if is_mapping(model):
        # A single state dict of the whole model, already prefixed.
        names = [str(k) for k in model.keys()]
        if names and all(n.startswith(("img_enc.", "txt_enc.")) for n in names):
            return [(str(k), v) for k, v in model.items()]
    raise ConversionError(
        f"{path}: 'model' is a {type(model).__name__}; "
        "expected [img_enc state_dict, txt_enc state_dict]")


def collect_tensors(torch, checkpoint, path):
    """{name: little-endian float32 numpy array}, in the checkpoint's order."""
    out = {}
    for name, value in state_dict_items(checkpoint["model"], path):
        if name in out:
            raise ConversionError(f"{path}: tensor {name} appears twice")
        if not isinstance(value, torch.Tensor):
            raise ConversionError(f"{path}: {name} is a {type(value).__name__}, not a tensor")
        if value.is_sparse or not (value.is_floating_point()):
            raise ConversionError(f"{path}: {name} is a {value.dtype} tensor; only float tensors are expected")
        t = value.detach().to("cpu")
        if t.dtype != torch.float32:
            t = t.to(torch.float32)
        arr = np.ascontiguousarray(t.contiguous().numpy(), dtype="<f4")
        out[name] = arr
    if not out:
        raise ConversionError(f"{path}: 'model' holds no tensors")
    return out


# --------------------------------------------------------------------------- options


def json_value(v):
    """A JSON-safe copy of an option value."""
    if hasattr(v, "item") and callable(v.item) and getattr(v, "ndim", 0) == 0:
        v = v.item()  # numpy / torch scalars
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, bytes):
        return v.decode("latin1")
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    return str(v)


def scalar_string(v):
    if hasattr(v, "item") and callable(v.item):
        try:
            v = v.item()
        except (ValueError, RuntimeError):
            pass
    if isinstance(v, float):
        return repr(v)
    return str(v)


def raw_options(checkpoint, path):
    opt = checkpoint.get("opt")
    if opt is None:
        print(f"warning: {path} has no 'opt'; every option is filled in", file=sys.stderr)
        return {}
    if isinstance(opt, argparse.Namespace) or hasattr(opt, "__dict__") and not is_mapping(opt):
        items = vars(opt)
    elif is_mapping(opt):
        items = opt
    else:
        raise ConversionError(f"{path}: 'opt' is a {type(opt).__name__}, expected an argparse.Namespace")
    options = {}
    for k, v in items.items():
        key = k.decode("latin1") if isinstance(k, bytes) else str(k)
        if key in RESERVED_KEYS:
            raise ConversionError(f"{path}: opt has an option named {key!r}, which config.json reserves")
        options[key] = json_value(v)
    return options


def shape_str(a):
    return "[" + ", ".join(str(d) for d in a.shape) + "]"


def weight_facts(tensors, path):
    """What the weights say about the options, after checking their names and shapes."""
    def need(name):
        if name not in tensors:
            raise ConversionError(f"{path}: tensor {name} is missing (tensors: {', '.join(tensors)})")
        return tensors[name]

    facts = {}
    # Image encoder: nn.Linear, or weight_norm(nn.Linear, dim=None).
    has_plain = "img_enc.fc.weight" in tensors
    has_wn = "img_enc.fc.weight_v" in tensors or "img_enc.fc.weight_g" in tensors
    if has_plain and has_wn:
        raise ConversionError(f"{path}: img_enc has both fc.weight and fc.weight_g/fc.weight_v")
    if has_wn:
        facts["precomp_enc_type"] = "weight_norm"
        fc = need("img_enc.fc.weight_v")
        g = need("img_enc.fc.weight_g")
        if g.size != 1:
            raise ConversionError(
                f"{path}: img_enc.fc.weight_g has shape {shape_str(g)}; the original's "
                "weight_norm(dim=None) has a single scalar")
        if g.ndim != 0:
            # torch 0.3 stored the norm of weight_norm(dim=None) with shape [1]; keep the scalar form.
            tensors["img_enc.fc.weight_g"] = g.reshape(())
    else:
        facts["precomp_enc_type"] = "basic"
        fc = need("img_enc.fc.weight")
    fc_name = "img_enc.fc.weight_v" if has_wn else "img_enc.fc.weight"
    if fc.ndim != 2:
        raise ConversionError(f"{path}: {fc_name} has shape {shape_str(fc)}, expected (embed_size, img_dim)")
    embed_size, img_dim = fc.shape
    bias = need("img_enc.fc.bias")
    if bias.shape != (embed_size,):
        raise ConversionError(f"{path}: img_enc.fc.bias has shape {shape_str(bias)}, expected [{embed_size}]")
    facts["embed_size"], facts["img_dim"] = embed_size, img_dim

    # Text encoder: nn.Embedding + nn.GRU(word_dim, embed_size, num_layers, bidirectional=bi_gru).
    emb = need("txt_enc.embed.weight")
    if emb.ndim != 2:
        raise ConversionError(f"{path}: txt_enc.embed.weight has shape {shape_str(emb)}, expected (vocab_size, word_dim)")
    facts["vocab_size"], facts["word_dim"] = emb.shape
    rnn = [n for n in tensors if n.startswith("txt_enc.rnn.")]
    layers = 0
    while f"txt_enc.rnn.weight_ih_l{layers}" in tensors:
        layers += 1
    if layers == 0:
        raise ConversionError(f"{path}: tensor txt_enc.rnn.weight_ih_l0 is missing (tensors: {', '.join(tensors)})")
    reverse = sorted(n for n in rnn if n.endswith("_reverse"))
    bi = bool(reverse)
    dirs = 2 if bi else 1
    H = embed_size
    expected = {}
    for k in range(layers):
        for suffix in (["", "_reverse"] if bi else [""]):
            expected[f"txt_enc.rnn.weight_ih_l{k}{suffix}"] = (3 * H, facts["word_dim"] if k == 0 else H * dirs)
            expected[f"txt_enc.rnn.weight_hh_l{k}{suffix}"] = (3 * H, H)
            expected[f"txt_enc.rnn.bias_ih_l{k}{suffix}"] = (3 * H,)
            expected[f"txt_enc.rnn.bias_hh_l{k}{suffix}"] = (3 * H,)
    for name, shape in expected.items():
        a = need(name)
        if a.shape != shape:
            raise ConversionError(
                f"{path}: {name} has shape {shape_str(a)}, expected {list(shape)} "
                f"(a GRU with embed_size {H} from {fc_name}, word_dim {facts['word_dim']}, {dirs} direction(s))")
    unexpected = sorted(set(rnn) - set(expected))
    if unexpected:
        raise ConversionError(
            f"{path}: unexpected GRU tensors {', '.join(unexpected)} for a {layers}-layer "
            f"{'bidirectional' if bi else 'unidirectional'} GRU")
    facts["num_layers"], facts["bi_gru"] = layers, bi
    facts["_reverse_names"] = reverse
    return facts


def resolve_options(options, facts, path):
    """config = options + missing ones; check the options that the weights determine."""
    config = dict(options)
    filled = []
    for key, default in TRAIN_DEFAULTS.items():
        if key not in config:
            config[key] = facts.get(key, default)
            filled.append(key)
    if "vocab_size" not in config:
        config["vocab_size"] = facts["vocab_size"]
        filled.append("vocab_size")

    opt_bi = config["bi_gru"]
    if bool(opt_bi) != facts["bi_gru"]:
        if facts["bi_gru"]:
            shown = ", ".join(facts["_reverse_names"][:4])
            raise ConversionError(
                f"{path}: opt.bi_gru is {opt_bi!r} but the checkpoint has reverse-direction GRU weights "
                f"({shown}, ...): the weights are of a bidirectional GRU")
        raise ConversionError(
            f"{path}: opt.bi_gru is {opt_bi!r} but the checkpoint has no reverse-direction GRU weights "
            "(txt_enc.rnn.*_reverse): the weights are of a unidirectional GRU")
    sources = {
        "precomp_enc_type": "img_enc.fc (weight_g/weight_v means weight_norm, weight means basic)",
        "embed_size": "img_enc.fc.weight rows",
        "img_dim": "img_enc.fc.weight columns",
        "vocab_size": "txt_enc.embed.weight rows",
        "word_dim": "txt_enc.embed.weight columns",
        "num_layers": "the txt_enc.rnn.weight_ih_l<k> tensors",
    }
    for key, source in sources.items():
        value = config[key]
        if isinstance(value, bool) or value != facts[key]:
            raise ConversionError(
                f"{path}: opt.{key} is {value!r} but the weights say {facts[key]!r} (from {source})")

    for key, allowed in KNOWN_VALUES.items():
        if config[key] not in allowed:
            print(f"warning: {path}: opt.{key} = {config[key]!r} is not one of {', '.join(allowed)}",
                  file=sys.stderr)
    config["format"] = FORMAT
    config["format_version"] = FORMAT_VERSION
    config["filled_defaults"] = filled
    return config


# --------------------------------------------------------------------------- vocabulary


def vocab_file(arg, options):
    """--vocab is a file, or the original vocab/ folder (then NAME_vocab.json with NAME = opt.data_name)."""
    if os.path.isdir(arg):
        name = options.get("data_name")
        if not isinstance(name, str) or not name:
            raise ConversionError(
                f"{arg} is a folder and the checkpoint's opt has no data_name to pick NAME_vocab.json in it")
        path = os.path.join(arg, f"{name}_vocab.json")
        if not os.path.isfile(path):
            raise ConversionError(f"{path}: no such vocabulary file (from --vocab {arg} and opt.data_name {name!r})")
        return path
    return arg


def check_vocab(path, rows, checkpoint_path):
    """Check the original layout and that the size matches the embedding; returns the word count."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ConversionError(f"{path}: cannot read the vocabulary ({e.strerror or e})")
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ConversionError(f"{path}: not a JSON vocabulary ({e})")
    if not isinstance(d, dict) or not all(k in d for k in ("word2idx", "idx2word", "idx")):
        raise ConversionError(
            f"{path}: not a vocabulary in the original layout "
            '{"word2idx": {...}, "idx2word": {...}, "idx": N}')
    w2i, i2w, idx = d["word2idx"], d["idx2word"], d["idx"]
    if not isinstance(w2i, dict) or not isinstance(i2w, dict):
        raise ConversionError(f"{path}: word2idx and idx2word must be JSON objects")
    n = len(w2i)
    for i, special in enumerate(SPECIALS):
        if w2i.get(special) != i or i2w.get(str(i)) != special:
            want = ", ".join(f"{s}={j}" for j, s in enumerate(SPECIALS))
            raise ConversionError(
                f"{path}: the vocabulary must start with the special words {want}; "
                f"word2idx[{special!r}] is {w2i.get(special)!r}, idx2word['{i}'] is {i2w.get(str(i))!r}")
    ids = [v for v in w2i.values()]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in ids) or sorted(ids) != list(range(n)):
        raise ConversionError(f"{path}: the ids of word2idx must be 0..{n - 1}, each once")
    if len(i2w) != n or any(i2w.get(str(v)) != w for w, v in w2i.items()):
        raise ConversionError(f"{path}: idx2word is not the inverse of word2idx")
    if idx != n:
        raise ConversionError(f"{path}: 'idx' is {idx!r} but word2idx has {n} words")
    if n != rows:
        raise ConversionError(
            f"{path} has {n} words but txt_enc.embed.weight in {checkpoint_path} has {rows} rows: "
            "this is not the vocabulary the model was trained with")
    return n


# --------------------------------------------------------------------------- writing


def safetensors_bytes(tensors, metadata):
    """The whole file: u64 header length, JSON header (sorted, space-padded to 8), data in name order."""
    header = {"__metadata__": dict(metadata)}
    offset = 0
    names = sorted(tensors)
    for name in names:
        a = tensors[name]
        header[name] = {"dtype": "F32", "shape": [int(d) for d in a.shape],
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    text += b" " * (-len(text) % 8)
    parts = [struct.pack("<Q", len(text)), text]
    parts += [tensors[name].astype("<f4", copy=False).tobytes(order="C") for name in names]
    return b"".join(parts)


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_model_dir(out, files, vocab_src, force):
    """Write into a temporary folder beside `out`, then rename it into place."""
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConversionError(f"{out}: exists and is not a folder")
    if os.path.isdir(out) and os.listdir(out) and not force:
        raise ConversionError(f"{out}: the folder exists and is not empty (use --force to replace it)")
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.tmp-", dir=parent)
    except OSError as e:
        raise ConversionError(f"{parent}: cannot create a folder there ({e.strerror or e})")
    old = None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        for name, data in files.items():
            write_file(os.path.join(tmp, name), data)
        shutil.copyfile(vocab_src, os.path.join(tmp, "vocab.json"))
        if os.path.isdir(out):
            if os.listdir(out):
                old = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.old-", dir=parent)
                os.rename(out, os.path.join(old, "previous"))
            else:
                os.rmdir(out)
        os.rename(tmp, out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConversionError(f"{out}: cannot write the model directory ({e.strerror or e})")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="convert_checkpoint.py",
        description="Convert an original SCAN checkpoint (model_best.pth.tar) into a scan-swift model "
                    "directory (model.safetensors, config.json, vocab.json). Needs PyTorch.")
    p.add_argument("checkpoint", help="the original checkpoint, e.g. runs/f30k_scan/model_best.pth.tar")
    p.add_argument("--vocab", required=True,
                   help="the vocabulary the model was trained with: vocab/NAME_vocab.json of the original, "
                        "or the vocab/ folder (then NAME is the checkpoint's opt.data_name)")
    p.add_argument("--out", required=True, help="the model directory to create")
    p.add_argument("--force", action="store_true", help="replace --out if it exists and is not empty")
    return p.parse_args(argv)


def convert(args):
    path = args.checkpoint
    if not os.path.exists(path):
        raise ConversionError(f"{path}: no such checkpoint file")
    if not os.path.isfile(path):
        raise ConversionError(f"{path}: not a file")
    if not os.path.isdir(args.vocab) and not os.path.isfile(args.vocab):
        raise ConversionError(f"{args.vocab}: no such vocabulary file")
    torch = import_torch()

    checkpoint = load_checkpoint(torch, path)
    tensors = collect_tensors(torch, checkpoint, path)
    options = raw_options(checkpoint, path)
    facts = weight_facts(tensors, path)
    config = resolve_options(options, facts, path)

    vocab_path = vocab_file(args.vocab, options)
    words = check_vocab(vocab_path, facts["vocab_size"], path)

    metadata = {"format": FORMAT, "source": os.path.basename(path)}
    for key in ("epoch", "best_rsum", "Eiters"):
        if key in checkpoint:
            metadata[key] = scalar_string(checkpoint[key])
    files = {
        "model.safetensors": safetensors_bytes(tensors, metadata),
        "config.json": (json.dumps(config, indent=2, sort_keys=True) + "\n").encode("utf-8"),
    }
    out = write_model_dir(args.out, files, vocab_path, args.force)
    print(f"wrote {out}: {len(tensors)} tensors, {sum(a.size for a in tensors.values())} parameters, "
          f"{words} words; precomp_enc_type {config['precomp_enc_type']}, "
          f"{'bi-GRU' if config['bi_gru'] else 'GRU'}, cross_attn {config['cross_attn']}, "
          f"agg_func {config['agg_func']}")
    if config["filled_defaults"]:
        print("options missing from the checkpoint, filled in: " + ", ".join(
            f"{k}={config[k]!r}" for k in config["filled_defaults"]))
    return 0


def main(argv=None):
    args = parse_args(argv)
    try:
        return convert(args)
    except MissingTorch:
        print(NO_TORCH_MESSAGE, file=sys.stderr)
        return 2
    except ConversionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
