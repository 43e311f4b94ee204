"""CodeGenerator: seeded pools are the codes ``random.Random(seed).choice`` picks, character by
character (fixture pools must not change between releases)."""

from __future__ import annotations

import random

import pytest

from uniqodo_mock.core.codes import DEFAULT_ALPHABET, CodeGenerator


def _by_choice(seed: str, alphabet: str, length: int, count: int) -> list[str]:
    source = random.Random(seed)
    return ["".join(source.choice(alphabet) for _ in range(length)) for _ in range(count)]


@pytest.mark.parametrize(
    ("alphabet", "length"),
    [(DEFAULT_ALPHABET, 8), ("0123456789ABCDEF", 6), ("AB", 12), ("XYZ", 3), ("ABCDEFGHIJ", 1)],
)
@pytest.mark.parametrize("seed", ["0:1", "7:1234", "seed"])
def test_seeded_codes_are_those_of_random_choice(alphabet: str, length: int, seed: str) -> None:
    generator = CodeGenerator(alphabet=alphabet, length=length, seed=seed)
    assert [generator.one() for _ in range(300)] == _by_choice(seed, alphabet, length, 300)


def test_prefix_and_suffix_surround_the_drawn_body() -> None:
    generator = CodeGenerator(length=5, prefix="XMAS-", suffix="-24", seed="s")
    [body] = _by_choice("s", DEFAULT_ALPHABET, 5, 1)
    assert generator.one() == f"XMAS-{body}-24"


def test_fresh_skips_taken_and_repeated_codes() -> None:
    generator = CodeGenerator(alphabet="AB", length=3, seed="x")
    reference = _by_choice("x", "AB", 3, 200)
    taken = [reference[0].lower()]
    made = list(generator.fresh(7, taken))
    expected: list[str] = []
    for code in reference:
        if code not in expected and code != reference[0]:
            expected.append(code)
    assert made == expected[:7]
    assert len(set(made)) == 7


def test_unseeded_codes_use_the_alphabet_and_length() -> None:
    codes = [CodeGenerator(alphabet="QZ", length=20).one() for _ in range(50)]
    assert all(len(code) == 20 and set(code) <= {"Q", "Z"} for code in codes)
    assert len(set(codes)) > 1
