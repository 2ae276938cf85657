"""Japanese bank and branch codes with their names, for checking transfer files.

``BankDirectory.from_zengin_code`` reads the data of the zengin-code source-data project (MIT
licence), which the ``zengin-code`` package on PyPI ships and loads whole when imported (about
1,100 banks and 29,000 branches, a few tenths of a second). Kana names there are full-width
katakana with small kana already enlarged (ジヤツクス) and ``－`` for the long vowel. The data is
compiled from public listings, not published by Zengin-Net itself, so a branch opened or merged
after the package's release date (``BankDirectory.version``) is missing or stale until the
package is updated.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bank:
    """A financial institution: 4-digit code, name and full-width kana name."""

    code: str
    name: str
    kana: str


@dataclass(frozen=True)
class Branch:
    """A branch of one bank: 3-digit code, name and full-width kana name."""

    bank_code: str
    code: str
    name: str
    kana: str


class BankDirectory:
    """Banks by code, and their branches by bank code and branch code."""

    def __init__(self, banks: Mapping[str, Bank], branches: Mapping[str, Mapping[str, Branch]],
                 *, version: str = "") -> None:
        self._banks = dict(banks)
        self._branches = {code: dict(by_code) for code, by_code in branches.items()}
        self.version = version

    @classmethod
    def from_zengin_code(cls) -> BankDirectory:
        """Build the directory from the data shipped in the ``zengin-code`` package."""
        import zengin_code

        banks: dict[str, Bank] = {}
        branches: dict[str, dict[str, Branch]] = {}
        for code, entry in zengin_code.Bank.all.items():
            banks[code] = Bank(code=code, name=entry.name, kana=entry.kana)
            branches[code] = {
                branch_code: Branch(bank_code=code, code=branch_code, name=branch.name,
                                    kana=branch.kana)
                for branch_code, branch in entry.branches.items()
            }
        version = str(zengin_code.__version__)
        logger.info("loaded zengin-code %s: %d banks", version, len(banks))
        return cls(banks, branches, version=version)

    def bank(self, bank_code: str) -> Bank | None:
        return self._banks.get(bank_code)

    def branch(self, bank_code: str, branch_code: str) -> Branch | None:
        return self._branches.get(bank_code, {}).get(branch_code)

    def banks(self) -> list[Bank]:
        return list(self._banks.values())

    def branches(self, bank_code: str) -> list[Branch]:
        return list(self._branches.get(bank_code, {}).values())


@lru_cache(maxsize=1)
def default_directory() -> BankDirectory:
    """Return the zengin-code directory, loaded on first use and kept for the process."""
    return BankDirectory.from_zengin_code()
