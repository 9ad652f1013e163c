"""Building and deploying the Ray Serve application of a shard set."""
import os
from typing import List, Optional

import ray
from ray import serve

from . import ingress as ingress_module
from . import replica as replica_module
from .shardset import Shard

APP_NAME = "scan"


def build_app(shards: List[Shard], scan_serve: str, replicas: int = 2, deadline_s: float = 2.0,
              health_period_s: float = 1.0, serve_args: Optional[list] = None, ingress_replicas: int = 1):
    """One deployment ``shard-i`` per shard (``replicas`` replicas, each with its own scan-serve) and
    the ingress ``scan-ingress`` bound to their handles. Replicas ask Ray for no CPU: scan-serve's
    threads are the work, and the scheduler must not refuse replicas on a small node."""
    bound = []
    for s in shards:
        d = serve.deployment(replica_module.ShardReplica).options(
            name=f"shard-{s.index}", num_replicas=replicas, ray_actor_options={"num_cpus": 0},
            health_check_period_s=health_period_s, health_check_timeout_s=max(5.0, 3 * health_period_s),
            max_ongoing_requests=64, graceful_shutdown_timeout_s=2)
        bound.append(d.bind(s.path, scan_serve, s.index, serve_args))
    ingress = serve.deployment(ingress_module.Ingress).options(
        name="scan-ingress", num_replicas=ingress_replicas, ray_actor_options={"num_cpus": 0}, max_ongoing_requests=256)
    return ingress.bind(bound, deadline_s)


def connect(address: Optional[str], num_cpus: Optional[int] = None):
    """Attaches to the cluster at ``address`` ("auto": the local node's), or starts a local one.
    Every node must import scan_ray (``pip install ./python`` there): Serve's replicas import their class."""
    kwargs = dict(include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    if address:
        ray.init(address=address, **kwargs)
    else:
        # 127.0.0.2: a loopback address Ray keeps (it rewrites 127.0.0.1 into the routable one; Tools/ray/cluster.py).
        ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.2", object_store_memory=200 * 1024 * 1024, **kwargs)


def deploy(app, host: str = "127.0.0.1", port: int = 8000):
    """Starts Serve (its HTTP proxy on the head node only, bound to ``host``) and runs the application."""
    serve.start(http_options={"host": host, "port": port, "location": "HeadOnly"})
    serve.run(app, name=APP_NAME, route_prefix="/", blocking=False)
    return f"http://{host}:{port}/"
