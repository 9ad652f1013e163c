"""``python -m scan_ray``: deploy a shard set on a Ray cluster, build shards with Ray tasks, shut down."""
import argparse
import os
import signal
import sys
import time


def _shards(args):
    from .shardset import load_shard_set, shard_dirs_for_prefix
    paths = args.shards or shard_dirs_for_prefix(args.prefix)
    return load_shard_set(paths, args.scan_index)


def cmd_deploy(args) -> int:
    from . import app
    from .shardset import find_tool
    args.scan_index = find_tool("scan-index", args.bin_dir)
    scan_serve = find_tool("scan-serve", args.bin_dir)
    shards = _shards(args)
    app.connect(args.address, num_cpus=args.num_cpus)
    bound = app.build_app(shards, scan_serve, replicas=args.replicas, deadline_s=args.deadline_ms / 1000,
                          health_period_s=args.health_period_s)
    url = app.deploy(bound, host=args.host, port=args.port)
    total = sum(s.image_count for s in shards)
    print(f"scan-ray: {len(shards)} shards (set {shards[0].set_fingerprint}, {total} images) x {args.replicas} replicas at {url}", flush=True)
    if args.address and not args.block:
        return 0
    # A cluster this command started lives as long as the command.
    print("scan-ray: serving until interrupted (Ctrl-C)", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    from ray import serve
    serve.shutdown()
    return 0


def cmd_build(args) -> int:
    import ray
    from . import app, parallel_build
    from .shardset import find_tool
    scan_index = find_tool("scan-index", args.bin_dir)
    app.connect(args.address, num_cpus=args.num_cpus)
    t0 = time.monotonic()
    results = parallel_build.build_all(scan_index, args.model, args.features, args.captions, args.out, args.shards)
    for r in results:
        print(f"shard {r['shard']}: {r['index']} ({r['seconds']:.1f} s): {r['summary']}")
    print(f"scan-ray build: {args.shards} shards in {time.monotonic() - t0:.1f} s")
    ray.shutdown()
    return 0


def cmd_shutdown(args) -> int:
    import ray
    from ray import serve
    from . import app
    app.connect(args.address)
    serve.shutdown()
    ray.shutdown()
    print("scan-ray: the Serve application and its replicas are stopped (the Ray cluster keeps running: `ray stop` ends it)")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m scan_ray", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--address", help="Ray cluster to attach to (e.g. 127.0.0.1:6379 or auto); default: start a local one for this command")
    common.add_argument("--bin-dir", help="directory of scan-index and scan-serve (default: PATH, then .build/release, .build/debug)")
    common.add_argument("--num-cpus", type=int, help="CPUs of a local cluster started by this command")

    d = sub.add_parser("deploy", parents=[common], help="serve a shard set: one deployment per shard and an ingress with scan-serve's API")
    g = d.add_mutually_exclusive_group(required=True)
    g.add_argument("--prefix", help="the shards PREFIX-i-of-N (as scan-index split --out PREFIX makes them)")
    g.add_argument("--shards", nargs="+", help="the shard directories")
    d.add_argument("--replicas", type=int, default=2, help="replicas per shard (default 2)")
    d.add_argument("--host", default="127.0.0.1", help="address of the HTTP proxy (default 127.0.0.1)")
    d.add_argument("--port", type=int, default=8000, help="port of the HTTP proxy (default 8000)")
    d.add_argument("--deadline-ms", type=float, default=2000, help="per-shard deadline; a shard without a live replica by then is left out (default 2000)")
    d.add_argument("--health-period-s", type=float, default=1.0, help="how often Ray checks a replica's scan-serve (default 1 s)")
    d.add_argument("--block", action="store_true", help="stay in the foreground also when attached to a cluster")
    d.set_defaults(func=cmd_deploy)

    b = sub.add_parser("build", parents=[common], help="build the N shards of a set in parallel, one Ray task per shard")
    b.add_argument("--model", required=True)
    b.add_argument("--features", required=True)
    b.add_argument("--captions")
    b.add_argument("--shards", type=int, required=True)
    b.add_argument("--out", required=True, help="shard directories are OUT-i-of-N (a path every node sees)")
    b.set_defaults(func=cmd_build)

    s = sub.add_parser("shutdown", parents=[common], help="remove the Serve application from the cluster")
    s.set_defaults(func=cmd_shutdown)

    args = p.parse_args(argv)
    if getattr(args, "replicas", 1) < 1:
        p.error("--replicas must be at least 1")
    if getattr(args, "deadline_ms", 1) <= 0:
        p.error("--deadline-ms must be positive")
    if args.command == "build" and not (1 <= args.shards <= 4096):
        p.error("--shards must be in 1...4096")
    try:
        return args.func(args)
    except Exception as e:  # noqa: BLE001 - the tool prints the error and exits non-zero
        from .shardset import ShardSetError
        if isinstance(e, ShardSetError):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
