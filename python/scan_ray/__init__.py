"""SCAN index shards on a Ray cluster.

- ``scan_ray.app.build_app``: one Ray Serve deployment per shard (each replica owns a ``scan-serve``
  process over its shard) and an ingress deployment with ``scan-serve``'s HTTP API that fans a query
  out to every shard and merges the shards' top-k by SCAN score.
- ``scan_ray.parallel_build``: the shards of a set built by Ray tasks (``scan-index build --shard i/N``).
- ``python -m scan_ray``: the command line (deploy, build, shutdown).
"""
