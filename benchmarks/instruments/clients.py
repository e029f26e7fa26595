"""The Task Library and MediaPipe Tasks timed in the clients' environment, by clients_timing.py kept alive."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np

# Runs `calls` classifications starting at frame `start`: (ms per call, CPU s, wall s).
RunCalls = Callable[[int, int], tuple[list[float], float, float]]
CLIENTS = ("task_library", "mediapipe")


class ClientsWorker:
    """clients_timing.py in the clients' environment, answering one timing request at a time.

    Attributes:
      ready: Its first reply: {'ready': True, 'init_ms': {client: ms}, 'errors': {client: why}} (a
        client that rejected the model is in 'errors').
    """

    def __init__(
        self, python: str, model: Path, frames: np.ndarray, folder: Path, threads: int = 1, top_k: int = 5
    ) -> None:
        """Starts the worker on MODEL with FRAMES ((N, H, W, 3) uint8 RGB, saved in FOLDER with its log).

        Raises:
          RuntimeError: The worker exited before it was ready; the message has its last log lines.
        """
        frames_file = folder / "frames.npy"
        np.save(frames_file, frames)
        script = Path(__file__).with_name("clients_timing.py")
        command = [python, str(script), str(model), str(frames_file)]
        command += ["--threads", str(threads), "--top-k", str(top_k)]
        self._log_path = folder / "clients.log"
        self._log = self._log_path.open("wb")
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        self.ready = self._receive()

    def _receive(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            self.close()
            tail = self._log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"clients_timing.py exited {self._process.wait()}: {' / '.join(tail)}")
        return json.loads(line)

    def runner(self, client: str, prepared: bool = False) -> RunCalls:
        """A RunCalls timing CLIENT; `prepared` times classify() alone, its image wrapper made first."""

        def run(calls: int, start: int) -> tuple[list[float], float, float]:
            request = {"client": client, "calls": calls, "start": start, "prepared": prepared}
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            reply = self._receive()
            return reply["times_ms"], reply["cpu_seconds"], reply["wall_seconds"]

        return run

    def close(self) -> None:
        """Ends the worker (empty line, then wait) and closes its log."""
        if self._process.poll() is None:
            try:
                self._process.communicate("\n", timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


def start_clients(
    python: str | None, model: Path, frames: np.ndarray, folder: Path, threads: int = 1, top_k: int = 5
) -> tuple[ClientsWorker | None, dict[str, str]]:
    """Starts a ClientsWorker when it can; returns it (or None) and why each client it cannot time is out.

    The reasons, by client: no clients' Python given or found, a worker that died before it was
    ready (a broken environment: its last log lines), or a client that rejected the model.
    """
    if python is None or not Path(python).exists():
        where = "not given" if python is None else f"not found at {python}"
        reason = f"clients' environment {where} (make clients builds .venv-clients)"
        return None, dict.fromkeys(CLIENTS, reason)
    try:
        worker = ClientsWorker(python, model, frames, folder, threads, top_k)
    except RuntimeError as err:
        return None, dict.fromkeys(CLIENTS, str(err))
    return worker, {client: f"rejected the model: {why}" for client, why in worker.ready["errors"].items()}
