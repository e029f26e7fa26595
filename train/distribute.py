"""tf.distribute strategies for --distribute: none, mirrored (local devices), multi-worker (TF_CONFIG)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_runtime.errors import UserError

if TYPE_CHECKING:
    import tensorflow as tf

STRATEGIES = ("none", "mirrored", "multi-worker")


@dataclass(frozen=True)
class Cluster:
    """Where this process sits in a training run.

    Attributes:
      strategy: One of STRATEGIES.
      replicas: Model copies that share each batch (devices times workers).
      workers: Processes (machines) in the run.
      task: This process's TF_CONFIG task, e.g. 'worker:1'; '' when not multi-worker.
      chief: True for the process that writes the artifacts.
    """

    strategy: str
    replicas: int
    workers: int
    task: str
    chief: bool


def read_tf_config() -> dict | None:
    """The TF_CONFIG environment variable as a dict, None when unset.

    Raises:
      UserError: It is not JSON with a 'cluster' and a 'task' (type, index).
    """
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        task = config["task"]
        workers = config["cluster"][task["type"]]
        if not 0 <= int(task["index"]) < len(workers):
            raise IndexError
    except (ValueError, KeyError, TypeError, IndexError):
        raise UserError(
            "TF_CONFIG is not valid: expected JSON like "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
        ) from None
    return config


def make_strategy(name: str) -> tuple[tf.distribute.Strategy, Cluster]:
    """The strategy for `name` and this process's place in it.

    'mirrored' replicates over every local GPU, or every logical CPU device when there is no
    GPU (a CPU split with tf.config.set_logical_device_configuration). 'multi-worker' reads the
    cluster from TF_CONFIG (one worker when unset); every worker runs the same command.

    Raises:
      UserError: Unknown name, or a malformed TF_CONFIG.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise UserError(f"unknown distribution strategy {name!r}; use one of {', '.join(STRATEGIES)}")
    if name == "none":
        return tf.distribute.get_strategy(), Cluster(name, 1, 1, "", True)
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([device.name for device in devices])
        return strategy, Cluster(name, strategy.num_replicas_in_sync, 1, "", True)
    config = read_tf_config()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    if config is None:
        return strategy, Cluster(name, strategy.num_replicas_in_sync, 1, "", True)
    task = config["task"]
    workers = sum(len(config["cluster"].get(kind, [])) for kind in ("chief", "worker"))
    # The chief writes; without a 'chief' entry, worker 0 is the chief (Keras' convention).
    chief = task["type"] == "chief" or ("chief" not in config["cluster"] and int(task["index"]) == 0)
    cluster = Cluster(name, strategy.num_replicas_in_sync, workers, f"{task['type']}:{task['index']}", chief)
    return strategy, cluster
