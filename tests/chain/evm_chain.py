"""A real EVM (py-evm through eth-tester) with an ERC-20 compiled by vyper, and money moved
through several hops to addresses a test TagPack names."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

TOKEN_SOURCE = """
# pragma version ^0.4.0
event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

name: public(String[32])
symbol: public(String[8])
decimals: public(uint8)
balanceOf: public(HashMap[address, uint256])
totalSupply: public(uint256)

@deploy
def __init__(supply: uint256):
    self.name = "Test Tether"
    self.symbol = "USDT"
    self.decimals = 6
    self.balanceOf[msg.sender] = supply
    self.totalSupply = supply
    log Transfer(sender=empty(address), receiver=msg.sender, value=supply)

@external
def transfer(receiver: address, amount: uint256) -> bool:
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=msg.sender, receiver=receiver, value=amount)
    return True
"""

FORWARDER_SOURCE = """
# pragma version ^0.4.0
@external
@payable
def forward(receiver: address):
    send(receiver, msg.value)
"""

ETH = 10**18
UNIT = 10**6


@dataclass
class Scenario:
    w3: Any
    names: dict[str, str] = field(default_factory=dict)  # role -> lower-case address
    txs: dict[str, str] = field(default_factory=dict)  # role -> tx hash
    token: str = ""

    def tagpack(self) -> str:
        """A TagPack naming the exchange and the mixer (header fields inherited by tags)."""
        return (
            "title: test pack\ncreator: acctsec tests\nconfidence: service_data\n"
            "currency: ETH\nlastmod: 2024-01-01\ntags:\n"
            f"- address: '{self.names['exchange']}'\n  label: Test Exchange deposit\n"
            "  category: exchange\n  actor: testexchange\n"
            f"- address: '{self.names['mixer']}'\n  label: Test Mixer\n"
            "  category: mixing_service\n"
        )


def _compile(source: str) -> tuple[list[Any], str]:
    from vyper import compile_code

    out = compile_code(source, output_formats=["abi", "bytecode"])
    return out["abi"], out["bytecode"]


def _send(w3: Any, sender: str, to: str, wei: int) -> str:
    tx = w3.eth.send_transaction({"from": sender, "to": to, "value": wei})
    return "0x" + bytes(tx).hex()


def build() -> Scenario:
    """Moves ETH and tokens through hops; see tests for the amounts each model gives."""
    from web3 import EthereumTesterProvider, Web3

    w3 = Web3(EthereumTesterProvider())
    acct = w3.eth.accounts
    s = Scenario(w3)
    roles = ["victim", "a", "b", "c", "exchange", "mixer", "d", "e", "a2", "funder"]
    s.names = {r: acct[i].lower() for i, r in enumerate(roles)}
    cs = {r: acct[i] for i, r in enumerate(roles)}
    _eth_flow(w3, cs, s)
    _token_flow(w3, cs, s)
    _forward_flow(w3, cs, s)
    return s


def _eth_flow(w3: Any, cs: dict[str, str], s: Scenario) -> None:
    _send(w3, cs["funder"], cs["b"], 10 * ETH)  # b holds clean money first
    s.txs["eth_seed"] = _send(w3, cs["victim"], cs["a"], 10 * ETH)
    _send(w3, cs["a"], cs["b"], 10 * ETH)
    _send(w3, cs["b"], cs["c"], 5 * ETH)
    _send(w3, cs["b"], cs["exchange"], 15 * ETH)
    _send(w3, cs["c"], cs["mixer"], 5 * ETH)


def _token_flow(w3: Any, cs: dict[str, str], s: Scenario) -> None:
    abi, bytecode = _compile(TOKEN_SOURCE)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(10**12 * UNIT).transact({"from": cs["victim"]})
    )
    token = w3.eth.contract(address=receipt["contractAddress"], abi=abi)
    s.token = receipt["contractAddress"].lower()

    def move(sender: str, to: str, units: Decimal) -> str:
        tx = token.functions.transfer(cs[to], int(units * UNIT)).transact({"from": cs[sender]})
        return "0x" + bytes(tx).hex()

    move("victim", "d", Decimal(300))  # d holds clean tokens first
    s.txs["token_seed"] = move("victim", "a2", Decimal("1000.5"))
    move("a2", "d", Decimal("1000.5"))
    move("d", "exchange", Decimal("650.25"))
    move("d", "e", Decimal("650.25"))
    move("e", "exchange", Decimal("650.25"))


def _forward_flow(w3: Any, cs: dict[str, str], s: Scenario) -> None:
    abi, bytecode = _compile(FORWARDER_SOURCE)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    deploy = factory.constructor().transact({"from": cs["victim"]})
    receipt = w3.eth.wait_for_transaction_receipt(deploy)
    forwarder = w3.eth.contract(address=receipt["contractAddress"], abi=abi)
    s.names["forwarder"] = receipt["contractAddress"].lower()
    call = forwarder.functions.forward(cs["exchange"])
    tx = call.transact({"from": cs["victim"], "value": 2 * ETH})
    s.txs["internal_seed"] = "0x" + bytes(tx).hex()
