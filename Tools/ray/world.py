"""The small synthetic demo world the Ray tests and the benchmark use (built once under a folder,
reused when present): scan-demo-world, a short scan-train, a prefilter fit, one whole index of the
test split, and its splits into 1, 2 and 4 shards. Synthetic data only."""
import os
import subprocess
import sys


def run(args, **kw):
    r = subprocess.run(["nice"] + args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(args)}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout


def build_world(root: str, bin_dir: str, test_images: int = 100, shard_counts=(1, 2, 4)) -> dict:
    b = lambda t: os.path.join(bin_dir, t)  # noqa: E731
    os.makedirs(root, exist_ok=True)
    world, run_dir = os.path.join(root, "world"), os.path.join(root, "run")
    model = os.path.join(run_dir, "checkpoint", "model_best")
    whole = os.path.join(root, "whole")
    if not os.path.exists(os.path.join(world, "test_caps.txt")):
        run([b("scan-demo-world"), "--out", world, "--seed", "4", "--train", "300", "--dev", "20", "--test", str(test_images),
             "--regions", "8", "--img-dim", "32", "--quiet"])
    if not os.path.exists(os.path.join(model, "model.safetensors")):
        run([b("scan-train"), "--data_path", world, "--data_name", "", "--vocab_path", os.path.join(world, "vocab.json"),
             "--logger_name", os.path.join(run_dir, "log"), "--model_name", os.path.join(run_dir, "checkpoint"),
             "--embed_size", "32", "--word_dim", "16", "--img_dim", "32", "--bi_gru", "--num_epochs", "3",
             "--batch_size", "50", "--learning_rate", "0.002", "--val_step", "0", "--log_step", "0", "--seed", "1"],
            env=dict(os.environ, SCAN_QUIET="1"))
    if not os.path.exists(os.path.join(model, "prefilter.safetensors")):
        run([b("scan-prefilter"), "fit", "--model", model, "--data_path", world, "--split", "train", "--steps", "150",
             "--batch_size", "64", "--dim", "16"])
    if not os.path.exists(os.path.join(whole, "data.mdb")) or "state: complete" not in run([b("scan-index"), "info", "--index", whole]):
        run([b("scan-index"), "build", "--model", model, "--features", os.path.join(world, "test_ims.npy"),
             "--captions", os.path.join(world, "test_caps.txt"), "--index", whole, "--quiet"])
    prefixes = {}
    for n in shard_counts:
        prefix = os.path.join(root, "split")
        run([b("scan-index"), "split", "--index", whole, "--shards", str(n), "--out", prefix])
        prefixes[n] = prefix
    with open(os.path.join(world, "test_caps.txt")) as f:
        captions = [l.rstrip("\n") for l in f if l.strip()]
    return {"world": world, "model": model, "whole": whole, "prefix": os.path.join(root, "split"), "captions": captions,
            "features": os.path.join(world, "test_ims.npy"), "captions_file": os.path.join(world, "test_caps.txt")}
