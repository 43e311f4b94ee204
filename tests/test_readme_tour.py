"""The README's tour, run as written against one ``uniqodo-mock up``, twice in a row: every
command answers what its comment says, each time (the tour starts with a reset), and every
answer ends with a newline (pasted commands do not run together)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.test_up import uniqodo_up

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARK = "@@STEP"


def tour_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## A five-minute tour", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def tour_commands() -> list[str]:
    return [
        line
        for line in tour_block().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def run_tour(api: str, receiver: str) -> list[tuple[str, str]]:
    """Each command of the tour and what it printed, run in one bash as a reader would paste
    them; the venv running these tests stands for the one the README activates."""
    lines = []
    for number, command in enumerate(tour_commands()):
        if command == ". .venv/bin/activate":
            command = f'export PATH="{Path(sys.executable).parent}:$PATH"'
        elif command.startswith("MOCK="):
            command = f"MOCK={api}"
        lines.append(f"printf '{MARK} {number}\\n'")
        lines.append(f"{command} || printf 'exit status %d\\n' $?")
    environment = {
        **os.environ,
        "UNIQODO_MOCK_URL": api,
        "UNIQODO_MOCK_RECEIVER_URL": receiver,
        "PYTHONWARNINGS": "ignore",
    }
    result = subprocess.run(
        ["bash", "-c", "\n".join(lines)],
        capture_output=True,
        text=True,
        timeout=180,
        env=environment,
        cwd=REPO,
        check=True,
    )
    assert result.stderr == "", result.stderr
    out = result.stdout
    assert out.startswith(f"{MARK} 0\n")
    pieces = re.split(rf"{MARK} (\d+)\n", out)[1:]
    steps = []
    for index in range(0, len(pieces), 2):
        printed = pieces[index + 1]
        command = tour_commands()[int(pieces[index])]
        # The answer ends with a newline: the next command's output starts on its own line.
        assert printed == "" or printed.endswith("\n"), (command, printed)
        steps.append((command, printed))
    return steps


def _json(printed: str) -> Any:
    return json.loads(printed)


def check_tour(steps: list[tuple[str, str]]) -> dict[str, Any]:
    """Every answer as its comment in the README says; returns what must not change between
    runs."""
    seen: dict[str, Any] = {}
    redeems = 0
    for command, printed in steps:
        assert "exit status" not in printed, (command, printed)
        if command.startswith("uniqodo-mock admin reset"):
            assert printed.startswith("reset to ") and "default.yaml" in printed, printed
        elif "/code/$CODE_API_KEY/1234?uid=" in command:
            body = _json(printed)
            assert body["result"] == "success", body
            seen["code"] = body["data"]["code"]
        elif "/offers/$KEY/" in command:
            body = _json(printed)
            assert body["result"] == "success", body
            seen["offers"] = sorted(offer["offer_id"] for offer in body["data"]["offers"])
        elif "/validate/$KEY/AB12E3GH/1" in command and not command.startswith("VALKEY="):
            body = _json(printed)
            assert body["result"] == "success", body
            assert body["data"]["code"] == "XMAS10"
        elif "/redeem/$KEY/AB12E3GH/1" in command:
            body = _json(printed)
            redeems += 1
            if redeems == 1:
                assert body["result"] == "success", body
                assert body["data"]["redemption"]["order_id"] == "145789"
            else:  # "... and again: error 201, the code is used up"
                assert [error["code"] for error in body["errors"]] == [201], body
        elif command.startswith("uniqodo-mock calls wait"):
            # "The redemption called back the receiver: code=AB12E3GH&orderId=145789"
            assert "code=AB12E3GH&orderId=145789" in printed, printed
        elif "userId=ABC123" in command and "/publisher/" in command:
            body = _json(printed)
            records = body["data"]["redemption"]["records"]
            assert [record["code"] for record in records] == ["BF39KD2H"], body
            assert [error["code"] for error in body["errors"]] == [201], body
        elif "userId=nobody" in command:
            body = _json(printed)
            assert [error["code"] for error in body["errors"]] == [204], body
            assert body["errors"][0]["message"] == "The code entered is not recognised."
        elif "/distributor/" in command:
            body = _json(printed)
            assert body["data"]["redemption"]["total"] == 1, body
    assert redeems == 2
    assert {"code", "offers"} <= set(seen)
    return seen


def test_the_tour_answers_as_written_twice_in_a_row(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    with uniqodo_up(db, tmp_path / "up.log") as (api, receiver):
        first = check_tour(run_tour(api, receiver))
        second = check_tour(run_tour(api, receiver))
    assert second == first  # the same code for the same uid, the same offers


def test_the_readme_names_the_command_one_way() -> None:
    """``uniqodo-mock`` in an activated venv, never ``.venv/bin/uniqodo-mock``; no bare
    ``pip`` outside a venv; exactly two set-up commands."""
    texts = {path.name: path.read_text(encoding="utf-8") for path in REPO.glob("docs/*.md")}
    texts["README.md"] = README.read_text(encoding="utf-8")
    for name, text in texts.items():
        assert "bin/uniqodo-mock" not in text, name
        for line in text.splitlines():
            assert not re.match(r"\s*(sudo\s+)?pip3?\s+install", line), (name, line)
    section = texts["README.md"].split("## Two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert [block.strip().count("\n") for block in blocks] == [0, 0]
    assert blocks[1].strip() == "scripts/test.sh"
    assert "uniqodo-mock up" in blocks[0] and ". .venv/bin/activate" in blocks[0]
