"""The image's install and start steps, and the CI workflow's start step, run outside a
container (no Docker engine runs here).

The Dockerfile's build stage is replayed: exactly the files its COPY lines name go into a build
context, and its RUN line builds the wheel there. The run stage's venv gets that wheel as the
Dockerfile installs it, but with ``--no-deps``: the dependencies come from this venv's
site-packages through a plain path entry (as in tests/test_packaging.py), so no index is
needed. The files the run stage copies land under a folder standing for the image's root,
its ENV is applied with /data mapped to a temporary folder, and the entrypoint is started as the
container would start it. compose.yaml's services are started the same way, with the hosts and
ports of this machine in place of the compose network's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.conftest import create_pg_database, drop_pg_database
from tests.deploy_helpers import (
    REPO,
    compose,
    copies,
    dockerfile,
    instructions,
    stages,
    workflow_steps,
)

from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.serving import free_port, wait_healthy

pytestmark = pytest.mark.slow

MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@dataclass(frozen=True)
class ImageInstall:
    """The run stage's files under ``root`` (a stand-in for the image's /)."""

    root: Path
    venv: Path

    def rooted(self, path: str) -> str:
        return str(self.root / path.lstrip("/"))

    def env(self, data: Path, **extra: str) -> dict[str, str]:
        """The image's ENV, /data being ``data``, PATH led by its /usr/local/bin and venv."""
        env = {key: value.replace("/data", str(data)) for key, value in dockerfile().envs.items()}
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = f"{self.rooted('/usr/local/bin')}:{self.venv / 'bin'}:/usr/bin:/bin"
        env["HOME"] = str(data.parent / "home")
        return {**env, **extra}

    def entrypoint(self) -> str:
        [entrypoint] = instructions(stages()[-1], "ENTRYPOINT")
        [name] = entrypoint.exec_form()
        return self.rooted(f"/usr/local/bin/{name}")


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> ImageInstall:
    build, run = stages()
    work = tmp_path_factory.mktemp("image")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "UNIQODO_MOCK_SPEC_DIR")}

    # Build stage: the build context holds only what the COPY lines bring in.
    [workdir] = instructions(build, "WORKDIR")
    context = work / "build" / workdir.value.lstrip("/")
    context.mkdir(parents=True)
    for copy in copies(build):
        for source in copy.sources:
            target = context / copy.destination / Path(source).name
            if (REPO / source).is_dir():
                shutil.copytree(
                    REPO / source,
                    context / copy.destination,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
                )
            else:
                shutil.copy2(REPO / source, target)
    [wheel_step] = instructions(build, "RUN")
    dist = work / "dist"
    command = [
        sys.executable if word == "python" else str(dist) if word == "/dist" else word
        for word in wheel_step.words()
    ]
    _run([*command, "-q"], cwd=context, env=env)
    [wheel] = dist.glob("uniqodo_mock-*.whl")

    # Run stage: the venv, the wheel in it, the copied scripts.
    root = work / "root"
    venv = root / "opt" / "uniqodo-mock"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=work, env=env)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index"]
    _run([*pip, "--no-deps", "-q", str(wheel)], cwd=work, env=env)
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            cwd=work,
            env=env,
        ).stdout.strip()
    )
    (site / "zz_project_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    install = ImageInstall(root, venv)
    for copy in copies(run):
        if "from" in copy.flags:
            continue
        [source] = copy.sources
        target = Path(install.rooted(copy.destination))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / source, target)
        if "chmod" in copy.flags:
            target.chmod(int(copy.flags["chmod"], 8))
    return install


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """The /data volume: the working folder, where the state goes."""
    folder = tmp_path / "data"
    folder.mkdir()
    (tmp_path / "home").mkdir()
    return folder


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Servers started by a test, each in its own process group; ended after it."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _start(
    processes: list[subprocess.Popen[bytes]], args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    log = open(cwd.parent / f"server-{len(processes)}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    processes.append(process)
    return process


def _healthcheck(image: ImageInstall, env: dict[str, str]) -> int:
    """The image's HEALTHCHECK command, run as Docker runs it; its exit status."""
    [health] = instructions(stages()[-1], "HEALTHCHECK")
    return subprocess.run(health.exec_form(), env=env, timeout=30, capture_output=True).returncode


def _redeem_the_docs_code(mock: str) -> None:
    with httpx.Client(base_url=mock, timeout=30) as http:
        validated = http.get(f"/validate/{MERCHANT_KEY}/AB12E3GH/1").json()
        assert validated["result"] == "success", validated
        redeemed = http.get(
            f"/redeem/{MERCHANT_KEY}/AB12E3GH/1",
            params={
                "orderId": "145789",
                "orderValue": "219.99",
                "valKey": validated["data"]["val_key"],
            },
        ).json()
        assert redeemed["result"] == "success", redeemed


def _called_back(receiver: str) -> dict[str, str]:
    with ReceiverClient(receiver) as client:
        call = client.wait(timeout=30, param="code:AB12E3GH", after=0)
    return {p["name"]: p["value"] for p in call["params"]}


def test_image_entrypoint_runs_up_from_the_wheel_with_state_on_data(
    image: ImageInstall, data: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    port, receiver_port = free_port(), free_port()
    env = image.env(data)
    # Options only: `up`; the --host given here comes after the entrypoint's 0.0.0.0 and wins.
    args = ["--port", str(port), "--receiver-port", str(receiver_port), "--host", "127.0.0.1"]
    server = _start(processes, [image.entrypoint(), *args], env, data)
    mock, receiver = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{receiver_port}"
    wait_healthy(f"{mock}/__admin/health", process=server)
    wait_healthy(f"{receiver}/__receiver/health", process=server)

    health = httpx.get(f"{mock}/__admin/health").json()
    # The wheel's own fixtures, installed in the venv: not the checkout's.
    assert Path(health["fixtures"]).is_relative_to(image.venv), health
    health_env = {**env, "UNIQODO_MOCK_HEALTH_URL": f"{mock}/__admin/health"}
    assert _healthcheck(image, health_env) == 0

    _redeem_the_docs_code(mock)
    assert _called_back(receiver) == {"code": "AB12E3GH", "orderId": "145789"}
    assert (data / "uniqodo-mock.db").is_file()
    assert (data / "uniqodo-mock-receiver.db").is_file()

    server.send_signal(signal.SIGTERM)
    assert server.wait(30) == 0
    assert _healthcheck(image, health_env) != 0


def _replace_options(args: list[str], **values: str) -> list[str]:
    """A compose command line with this machine's values for some ``--name=VALUE`` options."""
    replaced = []
    for arg in args:
        name = arg.split("=", 1)[0].removeprefix("--").replace("-", "_")
        replaced.append(f"{arg.split('=', 1)[0]}={values[name]}" if name in values else arg)
    return replaced


@pytest.mark.postgres
def test_compose_services_wire_the_mock_to_the_receiver(
    image: ImageInstall, data: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    services = compose()["services"]
    mock_db, receiver_db = create_pg_database("uqm_compose"), create_pg_database("uqm_compose")
    try:
        port, receiver_port = free_port(), free_port()
        mock, receiver = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{receiver_port}"
        env = image.env(data)
        local = ["--host=127.0.0.1"]  # the compose network's addresses are not on this machine

        # In the order compose starts them: mock, subscribe, receiver.
        mock_args = _replace_options(services["mock"]["command"], port=str(port), db=mock_db)
        server = _start(processes, [image.entrypoint(), *mock_args, *local], env, data)
        wait_healthy(f"{mock}/__admin/health", process=server)

        subscribe = _replace_options(
            services["subscribe"]["command"], mock=mock, receiver_url=f"{receiver}/callback"
        )
        first = _run([image.entrypoint(), *subscribe], env=env, cwd=data)
        assert first.stdout.startswith(f"subscribed: {receiver}/callback")
        again = _run([image.entrypoint(), *subscribe], env=env, cwd=data)
        assert again.stdout.startswith(f"already subscribed: {receiver}/callback")
        subscriptions = httpx.get(f"{mock}/__admin/callbacks").json()["subscriptions"]
        assert [s["url"] for s in subscriptions] == [f"{receiver}/callback"]

        receiver_args = _replace_options(
            services["receiver"]["command"], port=str(receiver_port), db=receiver_db
        )
        _start(processes, [image.entrypoint(), *receiver_args, *local], env, data)
        wait_healthy(f"{receiver}/__receiver/health", process=processes[-1])

        _redeem_the_docs_code(mock)
        assert _called_back(receiver) == {"code": "AB12E3GH", "orderId": "145789"}
        assert list(data.iterdir()) == []  # on PostgreSQL, nothing lands on the volume
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        drop_pg_database(mock_db)
        drop_pg_database(receiver_db)


def test_subscribe_says_in_one_line_when_the_mock_is_not_there(
    image: ImageInstall, data: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [
            image.entrypoint(),
            "uniqodo-mock-subscribe",
            f"--mock={nowhere}",
            "--receiver-url=http://127.0.0.1:8090/callback",
            "--wait=0",
        ],
        env=image.env(data),
        cwd=data,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        result.stderr == f"Error: {nowhere} did not become ready in 0.0 s: is the mock running?\n"
    )


# --- the workflow's "Start the mock" step ---------------------------------------------------


def _start_step(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """The step's script, run as GitHub runs a `run:` step, in a process group of its own (the
    mock it starts in the background stays in it)."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(runner_temp),
        "UNIQODO_MOCK_PORT": str(port),
        "UNIQODO_BASE_URL": f"http://127.0.0.1:{port}",
    }
    script = workflow_steps()["Start the mock"]["run"]
    return subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _end_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)


def test_workflow_start_step_starts_the_mock_and_waits_until_it_is_healthy(
    tmp_path: Path,
) -> None:
    port = free_port()
    step = _start_step(tmp_path, port)
    try:
        stdout, stderr = step.communicate(timeout=120)
        assert step.returncode == 0, stderr
        assert '"status":"ok"' in stdout
        # The step has ended; the mock it started goes on serving the next steps.
        health = httpx.get(f"http://127.0.0.1:{port}/__admin/health")
        assert health.status_code == 200
        assert (tmp_path / "runner-temp" / "uniqodo.db").is_file()
        assert (tmp_path / "reports").is_dir()
    finally:
        _end_group(step.pid)


def test_workflow_start_step_fails_with_the_log_when_the_mock_cannot_start(
    tmp_path: Path,
) -> None:
    # Something else listens on the port (and never answers HTTP).
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        step = _start_step(tmp_path, taken.getsockname()[1])
        try:
            _, stderr = step.communicate(timeout=120)
        finally:
            _end_group(step.pid)
    assert step.returncode == 1
    assert "the mock is not healthy at" in stderr
    assert "address already in use" in stderr
