"""The container and CI files: the Dockerfile passes hadolint, the shell scripts ShellCheck,
compose.yaml the Compose Specification's schema and the workflow GitHub's workflow schema
(both vendored by check-jsonschema); each says what the image, the services and the CI job
need (non-root, state on a volume, health checks, the mock wired to the receiver), and every
command line in them is one the real CLI accepts. No Docker engine runs here:
tests/test_deploy_run.py runs the image's install and start steps outside a container."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from string import Template
from types import ModuleType
from urllib.parse import urlsplit

import click
import pytest
from tests.deploy_helpers import (
    COMPOSE,
    DOCKERFILE,
    DOCKERIGNORE,
    ENTRYPOINT,
    REPO,
    WORKFLOW,
    compose,
    copies,
    dockerfile,
    entrypoint_commands,
    instructions,
    option,
    stages,
    tool,
    workflow,
    workflow_steps,
)

from uniqodo_mock.cli import cli


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]


def _command(name: str) -> click.Command:
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, name)
    assert command is not None, name
    return command


def _parses(command: click.Command, args: list[str]) -> None:
    """``args`` are options ``command`` accepts (parsed and converted, not run)."""
    try:
        with command.make_context(command.name or "command", list(args)):
            pass
    except click.UsageError as error:
        pytest.fail(f"{command.name} {args}: {error.format_message()}")


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    result = _run([tool("hadolint"), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_dockerfile_builds_a_wheel_then_installs_it_into_a_venv_on_slim_python_311() -> None:
    build, run = stages()
    assert dockerfile().parent_images == ["python:3.11-slim", "python:3.11-slim"]
    assert build[0].value.endswith(" AS build")
    [wheel] = instructions(build, "RUN")
    assert "python -m pip wheel --no-deps -w /dist ." in wheel.value
    installs = " ".join(i.value for i in instructions(run, "RUN"))
    assert "--mount=type=bind,from=build,source=/dist,target=/dist" in installs
    assert "python -m venv /opt/uniqodo-mock" in installs
    assert "/opt/uniqodo-mock/bin/python -m pip install /dist/uniqodo_mock-*.whl" in installs
    env = dockerfile().envs
    assert env["PATH"].startswith("/opt/uniqodo-mock/bin:")
    assert env["PIP_NO_CACHE_DIR"] == "1"


def test_dockerfile_copies_what_the_wheel_needs_and_dockerignore_keeps_it() -> None:
    build, run = stages()
    sources = [
        s for copy in copies(build) + copies(run) if "from" not in copy.flags for s in copy.sources
    ]
    for needed in ("pyproject.toml", "MANIFEST.in", "README.md", "src/", "openapi/", "fixtures/"):
        assert needed in sources
    # .dockerignore excludes everything, then lets back in exactly what is copied.
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    kept = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for source in sources:
        assert (REPO / source).exists(), source
        assert source.rstrip("/").split("/")[0] in kept, f"{source} is ignored by .dockerignore"
    assert not {"tests", ".venv", ".git", "benchmarks"} & kept


def test_image_runs_as_a_non_root_user_with_state_on_the_data_volume() -> None:
    _, run = stages()
    [user] = instructions(run, "USER")
    uid, gid = user.value.split(":")
    assert int(uid) > 0 and int(gid) > 0
    creates = " ".join(i.value for i in instructions(run, "RUN"))
    assert f"--uid {uid}" in creates and f"--gid {gid}" in creates
    assert "chown uniqodo:uniqodo /data" in creates
    [volume] = instructions(run, "VOLUME")
    assert volume.exec_form() == ["/data"]
    [workdir] = instructions(run, "WORKDIR")
    assert workdir.value == "/data"
    assert dockerfile().envs["UNIQODO_MOCK_DB"] == "sqlite:////data/uniqodo-mock.db"


def test_image_exposes_both_ports_checks_health_and_starts_the_entrypoint() -> None:
    _, run = stages()
    [expose] = instructions(run, "EXPOSE")
    assert expose.words() == ["8080", "8090"]
    [health] = instructions(run, "HEALTHCHECK")
    program, flag, code = health.exec_form()
    assert (program, flag) == ("python", "-c")
    assert "urllib.request.urlopen(os.environ['UNIQODO_MOCK_HEALTH_URL']" in code
    assert dockerfile().envs["UNIQODO_MOCK_HEALTH_URL"] == "http://127.0.0.1:8080/__admin/health"
    [entrypoint] = instructions(run, "ENTRYPOINT")
    [name] = entrypoint.exec_form()
    installed = {Path(c.destination).name: c for c in copies(run)}
    assert installed[name].sources == ["docker/entrypoint.sh"]
    assert installed[name].flags["chmod"] == "0755"
    assert installed["uniqodo-mock-subscribe"].sources == ["docker/subscribe_receiver.py"]
    [command] = instructions(run, "CMD")
    assert command.exec_form() == ["up"]


# --- the entrypoint -----------------------------------------------------------------------


def test_entrypoint_passes_shellcheck() -> None:
    result = _run([tool("shellcheck"), str(ENTRYPOINT)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_entrypoint_knows_every_uniqodo_mock_command() -> None:
    with click.Context(cli) as ctx:
        assert sorted(entrypoint_commands()) == cli.list_commands(ctx)


def _fake_uniqodo_mock(folder: Path) -> Path:
    """A ``uniqodo-mock`` that prints how it was called and the receiver's token."""
    folder.mkdir()
    fake = folder / "uniqodo-mock"
    fake.write_text(
        '#!/bin/sh\nprintf "%s\\n" "uniqodo-mock" "$@" "token=${UNIQODO_RECEIVER_TOKEN:-}"\n'
    )
    fake.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("args", "called"),
    [
        ([], ["uniqodo-mock", "up", "--host", "0.0.0.0"]),
        (["--reset-fixtures"], ["uniqodo-mock", "up", "--host", "0.0.0.0", "--reset-fixtures"]),
        (["--help"], ["uniqodo-mock", "--help"]),
        (
            ["serve", "--port", "9000", "--host", "127.0.0.1"],
            ["uniqodo-mock", "serve", "--host", "0.0.0.0", "--port", "9000", "--host", "127.0.0.1"],
        ),
        (["receiver"], ["uniqodo-mock", "receiver", "--host", "0.0.0.0"]),
        (
            ["contract", "--url", "http://127.0.0.1:8080", "--seed", "1"],
            ["uniqodo-mock", "contract", "--url", "http://127.0.0.1:8080", "--seed", "1"],
        ),
        (["calls", "list"], ["uniqodo-mock", "calls", "list"]),
        (["sh", "-c", "echo a program"], ["a program"]),
    ],
)
def test_entrypoint_runs_up_by_default_and_passes_commands_through(
    tmp_path: Path, args: list[str], called: list[str]
) -> None:
    bin_dir = _fake_uniqodo_mock(tmp_path / "bin")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    result = _run([str(ENTRYPOINT), *args], env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    if called[0] == "uniqodo-mock":
        assert lines == [*called, "token="]
    else:
        assert lines == called


def test_entrypoint_hands_the_admin_token_to_the_receiver_unless_it_has_its_own(
    tmp_path: Path,
) -> None:
    bin_dir = _fake_uniqodo_mock(tmp_path / "bin")
    path = f"{bin_dir}:/usr/bin:/bin"
    shared = _run(
        [str(ENTRYPOINT), "receiver"], env={"PATH": path, "UNIQODO_MOCK_ADMIN_TOKEN": "s3cret"}
    )
    assert shared.stdout.splitlines()[-1] == "token=s3cret"
    own = _run(
        [str(ENTRYPOINT), "receiver"],
        env={"PATH": path, "UNIQODO_MOCK_ADMIN_TOKEN": "s3cret", "UNIQODO_RECEIVER_TOKEN": "own"},
    )
    assert own.stdout.splitlines()[-1] == "token=own"


# --- compose.yaml ---------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification() -> None:
    result = _run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _subscribe_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "subscribe_receiver", REPO / "docker" / "subscribe_receiver.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compose_runs_postgres_mock_receiver_and_the_subscription() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "mock", "subscribe", "receiver"}
    postgres = services["postgres"]
    assert re.fullmatch(r"postgres:\d+(-alpine)?", postgres["image"])
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert set(compose()["volumes"]) == {"postgres-data"}
    [init] = [v for v in postgres["volumes"] if v.endswith(":/docker-entrypoint-initdb.d:ro")]
    init_dir = REPO / init.split(":")[0]
    created = re.findall(
        r"CREATE DATABASE (\w+);", "".join(p.read_text() for p in init_dir.glob("*.sql"))
    )
    user = postgres["environment"]["POSTGRES_USER"]
    password = postgres["environment"]["POSTGRES_PASSWORD"]
    databases = {postgres["environment"]["POSTGRES_DB"], *created}

    for name in ("mock", "subscribe", "receiver"):
        service = services[name]
        # The image built from the Dockerfile (its USER is non-root), never run as root here.
        assert service["build"] == "." and service["image"] == "uniqodo-mock:local"
        assert service.get("user", "10001") not in ("0", "root", "0:0")

    mock, receiver, subscribe = services["mock"], services["receiver"], services["subscribe"]
    assert mock["command"][0] == "serve" and receiver["command"][0] == "receiver"
    for service in (mock, receiver):
        db = urlsplit(option(service["command"], "--db"))
        assert db.scheme == "postgresql+psycopg"
        assert (db.hostname, db.port, db.username, db.password) == (
            "postgres",
            5432,
            user,
            password,
        )
        assert db.path.lstrip("/") in databases
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
        port = option(service["command"], "--port")
        assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert option(mock["command"], "--db") != option(receiver["command"], "--db")

    mock_port, receiver_port = (
        option(mock["command"], "--port"),
        option(receiver["command"], "--port"),
    )
    assert f"http://127.0.0.1:{mock_port}/__admin/health" in mock["healthcheck"]["test"][-1]
    assert (
        f"http://127.0.0.1:{receiver_port}/__receiver/health" in receiver["healthcheck"]["test"][-1]
    )

    # The one-shot subscription: after the mock is healthy, before the receiver starts.
    assert subscribe["command"][0] == "uniqodo-mock-subscribe"
    assert option(subscribe["command"], "--mock") == f"http://mock:{mock_port}"
    assert (
        option(subscribe["command"], "--receiver-url")
        == f"http://receiver:{receiver_port}/callback"
    )
    assert subscribe["depends_on"] == {"mock": {"condition": "service_healthy"}}
    assert receiver["depends_on"]["subscribe"] == {"condition": "service_completed_successfully"}
    assert subscribe["restart"] == "no" and subscribe["healthcheck"] == {"disable": True}


def test_compose_command_lines_are_accepted_by_the_cli() -> None:
    services = compose()["services"]
    for name in ("mock", "receiver"):
        command, *args = services[name]["command"]
        _parses(_command(command), ["--host", "0.0.0.0", *args])
    _parses(_subscribe_script().main, services["subscribe"]["command"][1:])


# --- the GitHub workflow --------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"]
)
def test_workflow_matches_the_github_workflow_schema(schema: str) -> None:
    result = _run([tool("check-jsonschema"), "--builtin-schema", schema, str(WORKFLOW)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_run_scripts_pass_shellcheck(tmp_path: Path) -> None:
    for name, step in workflow_steps().items():
        if "run" not in step:
            continue
        # Values come in through env:, never as ${{ }} pasted into a script.
        assert "${{" not in step["run"], name
        script = tmp_path / "step.sh"
        script.write_text(step["run"])
        result = _run([tool("shellcheck"), "--shell=bash", str(script)])
        assert result.returncode == 0, f"{name}:\n{result.stdout}"


def test_workflow_installs_starts_waits_tests_and_publishes() -> None:
    steps = workflow_steps()
    assert list(steps) == [
        "actions/checkout",
        "actions/setup-python",
        "Install",
        "Start the mock",
        "Partner tests",
        "Contract suite",
        "Publish test results",
        "Keep the reports and the mock's log",
    ]
    env = workflow()["env"]
    assert env["UNIQODO_BASE_URL"] == f"http://127.0.0.1:{env['UNIQODO_MOCK_PORT']}"
    assert str(steps["actions/setup-python"]["with"]["python-version"]) == "3.11"
    assert '"$UNIQODO_MOCK_PACKAGE"' in steps["Install"]["run"]
    start = steps["Start the mock"]["run"]
    assert "uniqodo-mock serve" in start and '"$UNIQODO_BASE_URL/__admin/health"' in start
    assert "--junitxml=reports/partner.xml" in steps["Partner tests"]["run"]
    contract = steps["Contract suite"]
    assert contract["if"] == "${{ !cancelled() }}"
    assert steps["Publish test results"]["uses"].startswith("mikepenz/action-junit-report@")
    assert steps["Publish test results"]["with"]["report_paths"] == "reports/*.xml"
    upload = steps["Keep the reports and the mock's log"]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"].splitlines() == ["reports/", "${{ runner.temp }}/mock.log"]
    for name in ("Publish test results", "Keep the reports and the mock's log"):
        assert steps[name]["if"] == "${{ always() }}"
    assert workflow()["permissions"] == {"contents": "read", "checks": "write"}


def test_workflow_command_lines_are_accepted_by_the_cli() -> None:
    env = {k: str(v) for k, v in workflow()["env"].items()} | {"RUNNER_TEMP": "/tmp"}
    steps = workflow_steps()

    def command_line(script: str, command: str) -> list[str]:
        joined = script.replace("\\\n", " ")
        [line] = [line for line in joined.splitlines() if f"uniqodo-mock {command}" in line]
        words = line.split(f"uniqodo-mock {command}", 1)[1].split(">")[0]
        return [Template(word.strip('"')).substitute(env) for word in words.split()]

    serve = command_line(steps["Start the mock"]["run"], "serve")
    assert option(serve, "--port") == env["UNIQODO_MOCK_PORT"]
    _parses(_command("serve"), serve)
    contract = command_line(steps["Contract suite"]["run"], "contract")
    assert option(contract, "--url") == env["UNIQODO_BASE_URL"]
    assert option(contract, "--seed") == "1"
    assert option(contract, "--junit-xml") == "reports/contract.xml"
    _parses(_command("contract"), contract)


def test_ci_doc_points_at_the_workflow_instead_of_copying_it() -> None:
    text = (REPO / "docs" / "ci.md").read_text()
    assert "(../.github/workflows/contract.yml)" in text
    assert "```yaml" not in text
    for step in workflow_steps():
        if not step.startswith("actions/"):
            assert f"**{step}**" in text, f"docs/ci.md does not explain the step {step!r}"
