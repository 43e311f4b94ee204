"""The container and CI files read as the tools read them: the Dockerfile's stages and
instructions (dockerfile-parse), compose.yaml and the GitHub workflow (YAML), the entrypoint's
list of commands, and the linters the test extra installs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"
COMPOSE = REPO / "compose.yaml"
WORKFLOW = REPO / ".github" / "workflows" / "contract.yml"


def tool(name: str) -> str:
    """The linter ``name`` from this venv (the test extra installs it), else from PATH; a
    missing tool fails the test: the files would go unchecked."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' (scripts/test.sh does)")
    return found


@dataclass(frozen=True)
class Instruction:
    name: str
    value: str

    def words(self) -> list[str]:
        return shlex.split(self.value)

    def exec_form(self) -> list[str]:
        """``["a", "b"]`` of ENTRYPOINT/CMD (or of HEALTHCHECK after its CMD)."""
        text = self.value.split("CMD", 1)[1] if self.name == "HEALTHCHECK" else self.value
        parsed = json.loads(text)
        assert isinstance(parsed, list), f"{self.name} is not in exec form: {self.value}"
        return parsed


def dockerfile() -> DockerfileParser:
    return DockerfileParser(str(DOCKERFILE))


def stages() -> list[list[Instruction]]:
    """The Dockerfile's stages, each from its FROM, comments left out."""
    found: list[list[Instruction]] = []
    for item in dockerfile().structure:
        instruction = Instruction(item["instruction"], item["value"])
        if instruction.name == "COMMENT":
            continue
        if instruction.name == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def instructions(stage: list[Instruction], name: str) -> list[Instruction]:
    return [i for i in stage if i.name == name]


@dataclass(frozen=True)
class Copy:
    flags: dict[str, str]
    sources: list[str]
    destination: str


def copies(stage: list[Instruction]) -> list[Copy]:
    found = []
    for instruction in instructions(stage, "COPY"):
        words = instruction.words()
        flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
        paths = [w for w in words if not w.startswith("--")]
        found.append(Copy(flags, paths[:-1], paths[-1]))
    return found


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def workflow() -> dict[str, Any]:
    data = load_yaml(WORKFLOW)
    # YAML 1.1 reads the key `on` as true.
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow_steps() -> dict[str, dict[str, Any]]:
    """The steps of the workflow's one job, by name (or by the action they use)."""
    [job] = workflow()["jobs"].values()
    return {step.get("name") or step["uses"].split("@")[0]: step for step in job["steps"]}


def entrypoint_commands() -> list[str]:
    """The uniqodo-mock commands the entrypoint passes to ``uniqodo-mock``."""
    match = re.search(r'^uniqodo_mock_commands="([^"]*)"', ENTRYPOINT.read_text(), re.M)
    assert match, "docker/entrypoint.sh lists no uniqodo_mock_commands"
    return match.group(1).split()


def option(args: list[str], name: str) -> str:
    """The value of ``--name=VALUE`` or ``--name VALUE`` in a command line (the last one)."""
    value = None
    for index, arg in enumerate(args):
        if arg.startswith(f"{name}="):
            value = arg.split("=", 1)[1]
        elif arg == name and index + 1 < len(args):
            value = args[index + 1]
    assert value is not None, f"{name} missing from {args}"
    return value
