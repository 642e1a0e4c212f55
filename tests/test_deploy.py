"""deploy/ and the Dockerfile: the manifests read as Kubernetes reads them, and the Indexed Job
simulated here, its pods as local processes, merged into the exact report of the whole test.

No cluster is reachable from the test machines and no image can be built or pulled, so what
the cluster would do is done by hand: ``envsubst`` on the manifest, the kubelet's ``$(NAME)``
expansion of the container's args, ``JOB_COMPLETION_INDEX`` per pod, a log per pod.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from functools import partial
from pathlib import Path
from typing import Any

import trio
import yaml

from tests.trioload.conftest import TRIOLOAD, run_trioload
from trioload.results.merge import last_json_document
from trioserve.config import ServerConfig
from trioserve.tls_server import server_for

REPO = Path(__file__).resolve().parent.parent
KUBERNETES = REPO / "deploy" / "kubernetes"
JOB = KUBERNETES / "trioload-job.yaml"
#: from the simulated pods' start to their --start-at: room for three interpreters to start.
START_LEAD_S = 1.5


def documents(path: Path, **substitutions: str) -> list[dict[str, Any]]:
    """The manifest's objects after ``envsubst`` of ``substitutions``, as the docs apply it."""
    text = path.read_text()
    for name, value in substitutions.items():
        text = text.replace(f"${{{name}}}", value)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_job_is_indexed_one_pod_a_segment_never_retried() -> None:
    spec = kinds_of(JOB)["Job"]["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"]
    assert spec["backoffLimit"] == 0
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    args = container["args"]
    segment = args[args.index("--segment") + 1]
    assert segment == f"$(JOB_COMPLETION_INDEX)/{spec['completions']}"
    assert args[args.index("--start-at") + 1] == "$(START_AT)"
    assert args[args.index("--json") + 1] == "-"  # the report last on stdout, in the pod's log
    assert {"name": "START_AT", "value": "${START_AT}"} in container["env"]
    assert container["resources"]["requests"]["cpu"] == "1"
    assert "cpu" not in container["resources"].get("limits", {})  # no CFS throttling


def test_job_keeps_load_generators_on_separate_nodes() -> None:
    pod = kinds_of(JOB)["Job"]["spec"]["template"]
    (term,) = pod["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


def test_trioserve_deployment_and_service_meet_on_the_jobs_url() -> None:
    objects = kinds_of(KUBERNETES / "trioserve.yaml")
    deployment, service = objects["Deployment"], objects["Service"]
    template = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"] == template["metadata"]["labels"]
    assert service["spec"]["selector"] == template["metadata"]["labels"]
    (container,) = template["spec"]["containers"]
    assert container["command"] == ["trioserve"]
    port = int(container["args"][container["args"].index("--port") + 1])
    assert container["ports"][0]["containerPort"] == port
    (service_port,) = service["spec"]["ports"]
    job_args = kinds_of(JOB)["Job"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert f"http://{service['metadata']['name']}:{service_port['port']}/" in job_args


def test_dockerfile_installs_the_package_and_runs_as_a_user() -> None:
    lines = [line.split() for line in (REPO / "Dockerfile").read_text().splitlines()]
    instructions = [(words[0], words[1:]) for words in lines if words and words[0].isupper()]
    assert instructions[0][0] == "FROM"
    run = " ".join(" ".join(words) for kind, words in instructions if kind == "RUN")
    assert "pip wheel --no-cache-dir --wheel-dir /wheels ." in run  # from this repository
    assert "pip install --no-cache-dir --no-index /wheels/*.whl" in run
    users = [words for kind, words in instructions if kind == "USER"]
    assert users and users[-1][0] not in {"root", "0"}
    assert ("ENTRYPOINT", ['["trioload"]']) in instructions
    copied = {path for kind, words in instructions if kind == "COPY" for path in words[:-1]}
    # what pyproject.toml's build needs: the packages, and the readme it names
    assert {"trioload", "trioserve", "pyproject.toml", "README.md"} <= copied


def expand(arg: str, env: dict[str, str]) -> str:
    """The kubelet's expansion of ``$(NAME)`` in a container's args (unknown names stay)."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), arg)


def pod_command(
    container: dict[str, Any], flags: dict[str, str], url: str, env: dict[str, str]
) -> list[str]:
    """What the pod runs: the container's command, then its args with ``flags`` set (replaced,
    or added) and the URL replaced, expanded from ``env`` as the kubelet does."""
    args = [url if arg.startswith("http") else arg for arg in container["args"]]
    for flag, value in flags.items():
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args[:0] = [flag, value]
    return [expand(arg, env) for arg in (*container["command"], *args)]


def job_container(**substitutions: str) -> dict[str, Any]:
    (container,) = kinds_of(JOB, **substitutions)["Job"]["spec"]["template"]["spec"]["containers"]
    return dict(container)


def kinds_of(path: Path, **substitutions: str) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in documents(path, **substitutions)}


async def run_indexed_job(tmp_path: Path, flags: dict[str, str]) -> dict[str, Any]:
    """The Job's pods as local processes against trioserve on 127.0.0.1, each with its index
    and the one start; their logs merged as the docs do. The merged JSON report."""
    start_at = f"{time.time() + START_LEAD_S:.3f}"
    spec = kinds_of(JOB, START_AT=start_at)["Job"]["spec"]
    container = job_container(START_AT=start_at)
    logs = [tmp_path / f"trioload-{index}.log" for index in range(spec["completions"])]
    async with trio.open_nursery() as nursery:
        server = server_for(ServerConfig(host="127.0.0.1", port=0))
        port = await nursery.start(server.serve)

        async def pod(index: int, log: Path) -> None:
            env = {**manifest_env(container), "JOB_COMPLETION_INDEX": str(index)}
            command = pod_command(container, flags, f"http://127.0.0.1:{port}/", env)
            status = await run_pod(command, env, log)
            assert status == 0, log.read_text()

        async with trio.open_nursery() as pods:
            for index, log in enumerate(logs):
                pods.start_soon(pod, index, log)
        nursery.cancel_scope.cancel()
    merged = await run_trioload("merge", *map(str, logs), "--json", "-")
    assert merged.returncode == 0, merged.stderr
    return merged.report


def manifest_env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


async def run_pod(command: list[str], env: dict[str, str], log: Path) -> int:
    """One pod, with trioload on the PATH as in the image: its stdout and stderr in one log,
    as ``kubectl logs`` shows them; its exit status."""
    path = f"{TRIOLOAD.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with log.open("wb") as out:
        done = await trio.run_process(
            command, stdout=out, stderr=out, env={**os.environ, **env, "PATH": path}, check=False
        )
    return done.returncode


async def test_indexed_job_segments_merge_to_the_whole_test(tmp_path: Path) -> None:
    report = await run_indexed_job(tmp_path, {"-n": "3000", "-c": "30"})
    assert (report["finished"], report["succeeded"], report["failed"]) == (3000, 3000, 0)
    assert (report["requests"], report["concurrency"]) == (3000, 30)
    logs = [json.loads(p.read_text()[p.read_text().rfind("\n{") + 1 :]) for p in tmp_path.iterdir()]
    assert sorted(log["segment"]["index"] for log in logs) == [0, 1, 2]
    assert sorted(log["finished"] for log in logs) == [1000, 1000, 1000]


async def test_indexed_job_segments_keep_the_whole_rate(tmp_path: Path) -> None:
    report = await run_indexed_job(tmp_path, {"-n": "900", "-c": "30", "-R": "600"})
    assert (report["finished"], report["rate"]) == (900, 600.0)
    # 900 requests due over 1.5 s: made at the asked rate, within the noise of a shared machine
    assert 0.85 * 600 < report["requests_per_second"] < 1.15 * 600


async def answer_nothing(stream: trio.SocketStream) -> None:
    """Read a request, then close without a response: a Receive failure for the client."""
    # trioload's probe resets before sending a byte
    with contextlib.suppress(trio.BrokenResourceError):
        async with stream:
            await stream.receive_some(65536)


async def test_job_pod_with_failed_requests_succeeds_with_its_report_last(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    listeners = await nursery.start(partial(trio.serve_tcp, answer_nothing, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    container = job_container(START_AT=f"{time.time():.3f}")
    env = {**manifest_env(container), "JOB_COMPLETION_INDEX": "2"}
    command = pod_command(container, {"-n": "30", "-c": "3"}, f"http://127.0.0.1:{port}/", env)
    log = tmp_path / "pod.log"
    assert await run_pod(command, env, log) == 0  # trioload said 1: some requests failed
    report = last_json_document(log.read_text())
    assert report is not None and log.read_text().rstrip().endswith("}")
    assert (report["finished"], report["failed"], report["segment"]["index"]) == (10, 10, 2)
    assert "Failed requests:        10" in log.read_text()  # the text report, before it


async def test_job_pod_that_cannot_run_fails(tmp_path: Path) -> None:
    with trio.socket.socket() as unused:  # a port nothing listens on
        await unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    container = job_container(START_AT=f"{time.time():.3f}")
    env = {**manifest_env(container), "JOB_COMPLETION_INDEX": "0"}
    command = pod_command(container, {"-n": "30", "-c": "3"}, f"http://127.0.0.1:{port}/", env)
    log = tmp_path / "pod.log"
    assert await run_pod(command, env, log) == 2
    assert "trioload: " in log.read_text()
