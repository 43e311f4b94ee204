"""Voucher code text: normalisation, generation (alphabet, length, vanity prefix/suffix),
validation keys and redemption keys."""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Iterable, Iterator

__all__ = [
    "DEFAULT_ALPHABET",
    "DEFAULT_LENGTH",
    "CodeGenerator",
    "derived_reference",
    "derived_token",
    "normalise_code",
    "normalise_user",
]

# No 0/O, 1/I/L: codes are read aloud and typed from emails.
DEFAULT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
DEFAULT_LENGTH = 8


def normalise_code(code: str) -> str:
    """Codes match ignoring case and surrounding blanks (integrations strip and URL-encode)."""
    return code.strip().upper()


def normalise_user(user: str) -> str:
    """Customer ids and emails match ignoring case and surrounding blanks."""
    return user.strip().lower()


class CodeGenerator:
    """Generates fresh codes for one offer; deterministic for a given seed."""

    def __init__(
        self,
        *,
        alphabet: str = DEFAULT_ALPHABET,
        length: int = DEFAULT_LENGTH,
        prefix: str = "",
        suffix: str = "",
        seed: int | str | None = None,
    ) -> None:
        if len(set(alphabet)) < 2:
            raise ValueError("a code alphabet needs at least two distinct characters")
        if length < 1:
            raise ValueError("a code length must be at least 1")
        self.alphabet = alphabet
        self.length = length
        self.prefix = prefix
        self.suffix = suffix
        self._random = random.Random(seed) if seed is not None else random.SystemRandom()

    def one(self) -> str:
        # Each character: ``getrandbits(size.bit_length())`` drawn again until it is below the
        # alphabet's size (unbiased rejection sampling; the draws CPython's ``choice`` makes,
        # so a seed gives the codes it always gave), one call per character.
        alphabet = self.alphabet
        getrandbits = self._random.getrandbits
        size = len(alphabet)
        bits = size.bit_length()
        chars = []
        for _ in range(self.length):
            drawn = getrandbits(bits)
            while drawn >= size:
                drawn = getrandbits(bits)
            chars.append(alphabet[drawn])
        return f"{self.prefix}{''.join(chars)}{self.suffix}"

    def fresh(self, count: int, taken: Iterable[str] = ()) -> Iterator[str]:
        """``count`` codes, none in ``taken`` (compared normalised) and none repeated."""
        seen = {normalise_code(code) for code in taken}
        capacity = len(set(self.alphabet)) ** self.length
        if count > capacity - len(seen):
            raise ValueError(
                f"cannot generate {count} unique codes of length {self.length} "
                f"from a {len(set(self.alphabet))}-character alphabet"
            )
        made = 0
        while made < count:
            code = self.one()
            norm = normalise_code(code)
            if norm in seen:
                continue
            seen.add(norm)
            made += 1
            yield code


def derived_token(seed: object, *parts: object, length: int = 44) -> str:
    """A hex token derived from the fixtures' seed and ``parts``: validation keys, redemption
    keys and lock sessions. The same state and the same requests give the same tokens, so a
    partner's recorded answers replay byte for byte."""
    digest = hashlib.sha256(repr((seed, *parts)).encode("utf-8")).hexdigest()
    while len(digest) < length:
        digest += hashlib.sha256(digest.encode("ascii")).hexdigest()
    return digest[:length]


def derived_reference(seed: object, *parts: object) -> str:
    """An error reference like the docs' ``TCJGGJGF`` (8 capitals), derived from the seed and
    what the answer is about (the request and the error), never random."""
    number = int.from_bytes(hashlib.sha256(repr((seed, *parts)).encode("utf-8")).digest()[:8])
    letters = []
    for _ in range(8):
        number, digit = divmod(number, 26)
        letters.append(string.ascii_uppercase[digit])
    return "".join(letters)
