"""`camera --serve`: the real loop on a video, real HTTP: the page, /metrics, /events, /stream.mjpg, /healthz, tokens."""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from camera_helpers import camera, camera_command, cli_env, summary_counts
from serve_helpers import start_serving, stop

from conftest import CAMERA_LABELS, REPO
from edge_runtime.camera.exchange import Counts
from edge_runtime.camera.serve.live import Buckets, Snapshot
from edge_runtime.camera.serve.server import health, stall_seconds

LABELS = CAMERA_LABELS
TOKEN = "a-test-token-of-24-chars"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$')


@pytest.fixture(scope="module")
def token_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("token") / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture(scope="module")
def served(labelled_model, video, token_file):
    """The loop on the looped video with --serve 127.0.0.1:0 and a token file; yields the URL."""
    command = camera_command(
        "--model", labelled_model, "--source", video, "--loop", "--threads", "1", "--budget-ms", "500",
        "--serve", "127.0.0.1:0", "--serve-token-file", token_file, "--serve-fps", "15",
        "--status-interval", "0",
    )  # fmt: skip
    proc, url = start_serving(command, REPO, cli_env())
    yield url
    summary_counts(stop(proc))


def get(url: str, token: str | None = TOKEN, method: str = "GET") -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def parse_exposition(text: str) -> dict[str, float]:
    """Prometheus text format 0.0.4, strictly: every sample's family has # HELP and # TYPE before it."""
    types: dict[str, str] = {}
    helped: set[str] = set()
    samples: dict[str, float] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types, f"two # TYPE lines for {name}"
            types[name] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match[1], match[2] or "", match[3]
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
            assert family in types and family in helped, f"{name} has no # TYPE/# HELP"
            if types[family] == "counter":
                assert name.endswith("_total"), name
            if types[family] == "histogram":
                assert name != family, f"a histogram's samples are _bucket, _sum, _count: {name}"
            samples[name + labels] = float(value)
    for family in (f for f, kind in types.items() if kind == "histogram"):
        buckets = [v for k, v in samples.items() if k.startswith(family + "_bucket{")]
        assert buckets == sorted(buckets), f"{family} buckets must be cumulative"
        assert samples[f'{family}_bucket{{le="+Inf"}}'] == samples[f"{family}_count"]
    return samples


def scrape_until(url: str, condition) -> dict[str, float]:
    """Scrapes /metrics until `condition` holds of the samples (the loop runs at 30 fps)."""
    for _ in range(300):
        samples = parse_exposition(get(url + "metrics")[2].decode())
        if condition(samples):
            return samples
        time.sleep(0.1)
    raise AssertionError("the counters did not move in 30 s")


def test_metrics_parse_and_counters_grow_between_scrapes(served):
    status, headers, body = get(served + "metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    parse_exposition(body.decode())
    prefix = "edge_runtime_camera_"
    first = scrape_until(served, lambda m: m[prefix + "latency_seconds_count"] > 0)
    second = scrape_until(
        served, lambda m: m[prefix + "latency_seconds_count"] > first[prefix + "latency_seconds_count"]
    )
    for name in ("frames_processed_total", "latency_seconds_count"):
        assert second[prefix + name] > first[prefix + name] > 0, name
    # A frame captured before the first scrape may be the one finished before the second.
    assert second[prefix + "frames_captured_total"] >= first[prefix + "frames_captured_total"] > 0
    for name in ("frames_dropped_total", "frames_missed_total", "frames_ambiguous_total", "fps"):
        assert prefix + name in second
    causes = {k: v for k, v in second.items() if k.startswith(prefix + "frames_missed_by_cause_total{")}
    assert len(causes) == 6 and sum(causes.values()) == second[prefix + "frames_missed_total"]
    assert second["process_cpu_seconds_total"] >= first["process_cpu_seconds_total"] > 0
    assert second["process_resident_memory_bytes"] > 1e6
    info = [k for k in second if k.startswith(prefix + "model_info{")]
    assert len(info) == 1 and 'model="model.tflite"' in info[0] and 'classes="3"' in info[0]
    assert second[info[0]] == 1
    per_class = {k: v for k, v in second.items() if k.startswith(prefix + "results_total{")}
    assert per_class and all(any(f'label="{name}"' in k for name in LABELS) for k in per_class)
    assert (
        sum(per_class.values()) + second[prefix + "results_unclassified_total"]
        == second[prefix + "latency_seconds_count"]
    )
    assert (
        abs(
            second[prefix + "last_result_timestamp_seconds"] - first[prefix + "last_result_timestamp_seconds"]
        )
        < 60
    )
    assert 'le="0.5"' in "".join(second)  # the --budget-ms 500 is one of the latency buckets


def test_events_carry_the_jsonl_fields(served):
    request = urllib.request.Request(served + "events", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        data = next(line for line in stream if line.startswith(b"data: "))
    record = json.loads(data[6:])
    assert set(record) == {
        "frame", "captured_at", "result_at", "latency_ms", "inference_ms", "missed", "worker", "classes",
        "ambiguous", "margin",
    }  # fmt: skip
    assert record["classes"] and record["classes"][0]["label"] in LABELS


def test_stream_sends_jpeg_parts_with_the_overlay(served):
    request = urllib.request.Request(served + "stream.mjpg", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as stream:
        assert stream.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
        assert stream.readline() == b"--frame\r\n"
        headers = {}
        while (line := stream.readline()) != b"\r\n":
            name, _, value = line.decode().partition(":")
            headers[name.lower()] = value.strip()
        assert headers["content-type"] == "image/jpeg"
        jpeg = stream.read(int(headers["content-length"]))
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (480, 640, 3)
    # The overlay's black box behind the top label, in the top-left corner.
    assert image[8:20, 10:60].mean() < 40


def test_page_health_and_the_rest_are_read_only(served):
    status, headers, body = get(served)
    page = body.decode()
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "model.tflite" in page and "crack, finger, clean" in page
    assert "stream.mjpg" in page and "EventSource('events'" in page and "<link" not in page
    assert "script-src 'nonce-" in headers["Content-Security-Policy"]
    assert get(served + "healthz")[0] == 200
    status, _, body = get(served + "status.json")
    assert status == 200 and json.loads(body)["processed"] > 0
    assert get(served + "nothing-here")[0] == 404
    assert get(served + "../../etc/passwd")[0] == 404
    assert get(served + "metrics", method="POST")[0] == 405
    assert get(served + "metrics", method="HEAD")[0] == 200


def test_a_missing_or_wrong_token_gets_401(served):
    for token in (None, "wrong-token-wrong-token!", TOKEN[:-1]):
        status, headers, _ = get(served + "metrics", token=token)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert get(served + "events?token=nope", token=None)[0] == 401
    assert get(served + f"healthz?token={TOKEN}", token=None)[0] == 200


def test_an_address_beyond_this_machine_needs_a_token(labelled_model, video):
    proc = camera("--model", labelled_model, "--source", video, "--serve", "0.0.0.0:0", timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("error: --serve 0.0.0.0:0: ")
        and "--serve-token-file" in lines[0]
    )


def test_a_port_in_use_is_one_line_and_exit_2(labelled_model, video):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = camera("--model", labelled_model, "--source", video, "--serve", str(port), timeout=60)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: --serve 127.0.0.1:{port}: the port is in use by another program; pick another port (0: any free one)"
    ]
    assert "Traceback" not in proc.stderr and "summary:" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--serve", "8080", "--serve-token", "short"], "fewer than 16"),
        (["--serve-token", TOKEN], "need --serve"),
        (["--serve", "8080", "--serve-token-file", "/nonexistent/token"], "cannot read it"),
    ],
)
def test_token_mistakes_are_one_line(labelled_model, video, args, message):
    proc = camera("--model", labelled_model, "--source", video, *args, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_loopback_without_token_refuses_other_host_names(labelled_model, video):
    command = camera_command(
        "--model", labelled_model, "--source", video, "--loop", "--serve", "0", "--status-interval", "0",
    )  # fmt: skip
    proc, url = start_serving(command, REPO, cli_env())
    try:
        assert url.startswith("http://127.0.0.1:")
        assert get(url + "healthz", token=None)[0] in (200, 503)
        request = urllib.request.Request(url + "metrics", headers={"Host": "attacker.example:80"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401
    finally:
        summary_counts(stop(proc))


def _snapshot(running: bool, since: float) -> Snapshot:
    empty = Buckets((0.1,))
    return Snapshot(
        Counts(10, 9, 1, 0), 0, 0, {}, 0, empty, empty, 30.0, 1.0, 2.0, 9, 1.0, since, 5.0, running
    )


def test_healthz_says_503_once_results_stop_for_longer_than_the_retries():
    limit = stall_seconds(retries=5, backoff_s=0.1, max_backoff_s=2.0)
    assert limit == pytest.approx(5.1)  # 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s of retries, plus 2 s
    assert stall_seconds(retries=0, backoff_s=0.1, max_backoff_s=2.0) == 5.0
    assert health(_snapshot(True, 0.2), limit)[0]
    ok, why = health(_snapshot(True, 6.0), limit)
    assert not ok and why.startswith("stalled: no result for 6.0 s")
    assert not health(_snapshot(False, 0.2), limit)[0]
