"""The ChainClient interface: what every chain backend answers, its values and its errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from acctsec.errors import DependencyError, InputError


class ChainError(DependencyError):
    """A chain backend failed after retries (exit 3); the message never holds a secret."""


class BackendUnavailable(ChainError):
    """The endpoint could not be reached or kept failing: timeouts, 429, 5xx."""


class BackendNotConfigured(ChainError):
    """No endpoint is configured for what was asked (or acctsec runs offline)."""


class UnknownNetwork(InputError):
    """A network code acctsec does not know."""


class MalformedReference(InputError):
    """A transaction hash or address that is not valid on its chain."""


class TransactionNotFound(InputError):
    """The chain does not know the transaction."""


@dataclass(frozen=True, slots=True)
class Network:
    """One chain: its code in reports, family, EVM chain id and native asset."""

    code: str
    family: str  # "evm", "btc" or "tron"
    native: str
    decimals: int
    chain_id: int | None = None


NETWORKS: Mapping[str, Network] = {
    "ETH": Network("ETH", "evm", "ETH", 18, 1),
    "BSC": Network("BSC", "evm", "BNB", 18, 56),
    "POLYGON": Network("POLYGON", "evm", "POL", 18, 137),
    "ARB": Network("ARB", "evm", "ETH", 18, 42161),
    "BASE": Network("BASE", "evm", "ETH", 18, 8453),
    "BTC": Network("BTC", "btc", "BTC", 8),
    "TRX": Network("TRX", "tron", "TRX", 6),
}

_ALIASES = {
    "ETHEREUM": "ETH", "ERC20": "ETH", "BNB": "BSC", "BEP20": "BSC", "MATIC": "POLYGON",
    "POL": "POLYGON", "ARBITRUM": "ARB", "ARBITRUM ONE": "ARB", "BITCOIN": "BTC", "XBT": "BTC",
    "TRON": "TRX", "TRC20": "TRX",
}


def network(code: str) -> Network:
    """The network for a code such as ETH, BSC, TRX (case-insensitive, common aliases)."""
    key = code.strip().upper()
    key = _ALIASES.get(key, key)
    if key not in NETWORKS:
        known = ", ".join(NETWORKS)
        raise UnknownNetwork(f"unknown network {code!r} (known: {known})")
    return NETWORKS[key]


_EVM_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_BARE_HASH = re.compile(r"[0-9a-fA-F]{64}")
_EVM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
_BECH32 = re.compile(r"(bc1|tb1|bcrt1)[02-9ac-hj-np-z]{8,87}")


def validate_txhash(net: Network, value: str) -> str:
    """The hash in its canonical form for the chain, or MalformedReference naming it."""
    text = value.strip()
    if net.family == "evm" and _EVM_HASH.fullmatch(text):
        return text.lower()
    if net.family in ("btc", "tron"):
        bare = text[2:] if text.lower().startswith("0x") else text
        if _BARE_HASH.fullmatch(bare):
            return bare.lower()
    shape = "0x and 64 hex digits" if net.family == "evm" else "64 hex digits"
    raise MalformedReference(f"malformed {net.code} transaction hash {value!r} (expected {shape})")


def normalize_address(net: Network, value: str) -> str:
    """The address in the form acctsec compares on (EVM lower case, BTC bech32 lower case).

    Base58 addresses (BTC legacy, Tron) must carry a valid checksum; Tron's version
    byte is 0x41. Anything else is MalformedReference naming the value.
    """
    text = value.strip()
    if net.family == "evm" and _EVM_ADDRESS.fullmatch(text):
        return text.lower()
    if net.family == "btc":
        if _BECH32.fullmatch(text.lower()) and text in (text.lower(), text.upper()):
            return text.lower()
        if _BASE58.fullmatch(text) and 25 <= len(text) <= 35 and _base58check(text):
            return text
    tron = net.family == "tron" and text.startswith("T") and len(text) == 34
    if tron and _BASE58.fullmatch(text) and _base58check(text)[:1] == b"\x41":
        return text
    raise MalformedReference(f"malformed {net.code} address {value!r}")


def _base58check(text: str) -> bytes:
    """The payload of a base58check string, or b"" when its checksum does not match."""
    import hashlib

    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in text:
        number = number * 58 + alphabet.index(char)
    pad = len(text) - len(text.lstrip("1"))
    raw = b"\0" * pad + number.to_bytes((number.bit_length() + 7) // 8, "big")
    payload, checksum = raw[:-4], raw[-4:]
    digest = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return payload if len(raw) > 4 and digest == checksum else b""


@dataclass(frozen=True, slots=True)
class Window:
    """A time window; None on either side means open."""

    since: datetime | None = None
    until: datetime | None = None

    def contains(self, ts: datetime | None) -> bool:
        if ts is None:
            return True
        if self.since is not None and ts < self.since:
            return False
        return self.until is None or ts <= self.until


@dataclass(frozen=True, slots=True)
class Transfer:
    """One movement of one asset from one address to another inside a transaction.

    `index` tells transfers of one transaction apart: "native", "log:<log index>",
    "internal:<trace id>", "out:<vout>:<input address>"; (txhash, index) is its identity.
    `asset` is the native symbol or the token contract address; `amount` is in whole
    units of the asset (wei already divided by 10**decimals), exact.
    `order` sorts transfers of one chain in execution order (block, position, sub).
    """

    network: str
    txhash: str
    index: str
    sender: str
    receiver: str
    asset: str
    amount: Decimal
    decimals: int
    ts: datetime | None = None
    block: int | None = None
    order: tuple[int, int, int] = (0, 0, 0)
    kind: str = "native"  # native, token, internal
    symbol: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.txhash, self.index)

    @property
    def asset_label(self) -> str:
        return self.symbol or self.asset


@dataclass(frozen=True, slots=True)
class AddressHistory:
    """Transfers into and out of one address; `note` says when the list is partial."""

    address: str
    incoming: tuple[Transfer, ...] = ()
    outgoing: tuple[Transfer, ...] = ()
    note: str | None = None

    @classmethod
    def of(cls, address: str, transfers: Iterable[Transfer], keep: Callable[[Transfer], bool],
           notes: Iterable[str] = ()) -> AddressHistory:
        """The history from transfers an API listed, each once, in chain order."""
        seen: dict[tuple[str, str], Transfer] = {}
        for transfer in transfers:
            seen.setdefault(transfer.key, transfer)
        ordered = [t for t in sorted(seen.values(), key=lambda t: (t.order, t.index)) if keep(t)]
        return cls(
            address=address,
            incoming=tuple(t for t in ordered if t.receiver == address),
            outgoing=tuple(t for t in ordered if t.sender == address),
            note="; ".join(notes) or None,
        )


class ChainClient(Protocol):
    """Reads one chain. Raises ChainError subclasses, MalformedReference, TransactionNotFound."""

    network: Network

    def transfers_in_tx(self, txhash: str) -> list[Transfer]:
        """Every value transfer the transaction made (native, token, internal when known)."""
        ...

    def history(self, address: str, window: Window) -> AddressHistory:
        """Transfers into and out of the address inside the window."""
        ...

    def history_all(self, addresses: Sequence[str], window: Window) -> dict[str, AddressHistory]:
        """`history` for many addresses; backends that can batch do it here."""
        ...


class OutputFollower(Protocol):
    """Optional for UTXO backends: the trace asks for the transactions that spend
    (forward) or fund (backward) the followed transfers instead of whole histories.

    The history holds those transactions only, each one's inputs ordered right
    before its outputs, so a taint model works per transaction. An address is
    then expanded again when new outputs reach it (change), never twice for one.
    """

    def followed_history(
        self, address: str, followed: Sequence[Transfer], window: Window, forward: bool
    ) -> AddressHistory:
        ...


def history_each(
    client: ChainClient, addresses: Sequence[str], window: Window
) -> dict[str, AddressHistory]:
    """The plain loop behind `history_all` for backends that cannot batch."""
    return {address: client.history(address, window) for address in addresses}


def scale(raw: int | str, decimals: int) -> Decimal:
    """A raw integer amount (wei, sat, sun, token base units) in whole units, exact."""
    value = int(raw)
    return Decimal(f"{value}E-{decimals}") if decimals else Decimal(value)


def format_amount(amount: Decimal) -> str:
    """An exact amount as plain decimal text without exponent or trailing zeros."""
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
