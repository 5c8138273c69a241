"""Who an address belongs to: GraphSense TagPacks, OFAC lists and Forta labels, offline."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acctsec.errors import InputError

# Categories acctsec reports, most severe first: a lookup that matches several tags
# answers with the most severe one (a sanctioned exchange wallet is "sanctioned").
CATEGORIES = ("sanctioned", "hack", "scam", "mixer", "bridge", "exchange", "blacklisted", "service")
_RANK = {name: i for i, name in enumerate(CATEGORIES)}

# Where TagPack `currency` values and OFAC list names point: EVM chains share addresses.
_EVM_CURRENCIES = frozenset(
    {"ETH", "BSC", "BEP20", "BNB", "MATIC", "POLYGON", "ARB", "BASE", "ETC", "USDC", "USDT"}
)
_ABUSE = {
    "sanction": "sanctioned", "service_hack": "hack", "hack": "hack", "exploit": "hack",
    "heist": "hack", "scam": "scam", "phishing": "scam", "ponzi_scheme": "scam",
    "ransomware": "scam", "sextortion": "scam",
}
_CATEGORY = {
    "mixing_service": "mixer", "mixer": "mixer", "exchange": "exchange", "bridge": "bridge",
    "black_list": "blacklisted", "defi_bridge": "bridge",
}


@dataclass(frozen=True, slots=True)
class Attribution:
    """What one source says about one address."""

    address: str
    family: str  # "evm", "btc", "tron" or the TagPack currency for other chains
    category: str  # one of CATEGORIES, or the source's own category
    entity: str  # actor, else label, else the source's title
    label: str | None = None
    raw_category: str | None = None
    abuse: str | None = None
    confidence: str | None = None
    source: str = ""  # file the fact came from
    currency: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity, "category": self.category, "label": self.label,
            "confidence": self.confidence, "source": self.source,
        }


def address_family(address: str, currency: str | None = None) -> str:
    """The address space an address lives in, from its shape first, then its currency."""
    text = address.strip()
    if text.lower().startswith("0x") and len(text) == 42:
        return "evm"
    if text.startswith("T") and len(text) == 34:
        return "tron"
    cur = (currency or "").upper()
    if cur in ("BTC", "XBT"):
        return "btc"
    if cur in _EVM_CURRENCIES:
        return "evm"
    if cur in ("TRX", "TRON"):
        return "tron"
    if text.lower().startswith("bc1") or (text[:1] in ("1", "3") and 25 <= len(text) <= 35):
        return "btc"
    return cur.lower() or "unknown"


def address_key(address: str, family: str) -> str:
    """The form addresses are compared in: EVM and bech32 are case-insensitive."""
    text = address.strip()
    if family == "evm" or text.lower().startswith(("bc1", "tb1")):
        return text.lower()
    return text


@dataclass
class AttributionIndex:
    """Every attribution loaded, looked up by address and network family."""

    by_key: dict[tuple[str, str], list[Attribution]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, item: Attribution) -> None:
        key = (item.family, address_key(item.address, item.family))
        self.by_key.setdefault(key, []).append(item)

    def all(self, address: str, family: str) -> list[Attribution]:
        return list(self.by_key.get((family, address_key(address, family)), ()))

    def lookup(self, address: str, family: str) -> Attribution | None:
        """The most severe attribution of the address, or None."""
        found = self.all(address, family)
        if not found:
            return None
        return min(found, key=lambda a: _RANK.get(a.category, len(CATEGORIES)))

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_key.values())


def categorize(fields: Mapping[str, Any], *, sanctioned: bool = False) -> str:
    """acctsec's category for a tag from its abuse, category and concepts fields."""
    if sanctioned:
        return "sanctioned"
    abuse = str(fields.get("abuse") or "").lower()
    if abuse in _ABUSE:
        return _ABUSE[abuse]
    raw = str(fields.get("category") or "").lower()
    if raw in _CATEGORY:
        return _CATEGORY[raw]
    concepts = [str(c).lower() for c in fields.get("concepts") or ()]
    for concept in concepts:
        if concept in _CATEGORY:
            return _CATEGORY[concept]
    return raw or "service"


_HEADER_SKIP = frozenset({"tags", "title", "creator", "description", "lastmod", "is_public"})


def tagpack_attributions(doc: Mapping[str, Any], source: str) -> Iterator[Attribution]:
    """The tags of one TagPack document, each inheriting the pack's header fields."""
    header = {k: v for k, v in doc.items() if k not in _HEADER_SKIP}
    title = str(doc.get("title") or "")
    for tag in doc.get("tags") or ():
        if not isinstance(tag, Mapping) or not tag.get("address"):
            continue
        merged = {**header, **tag}
        address = str(merged["address"]).strip()
        currency = str(merged.get("currency") or "") or None
        abuse = str(merged.get("abuse") or "") or None
        sanctioned = abuse == "sanction" or "ofac" in title.lower()
        yield Attribution(
            address=address,
            family=address_family(address, currency),
            category=categorize(merged, sanctioned=sanctioned),
            entity=str(merged.get("actor") or merged.get("label") or title or "unnamed"),
            label=str(merged["label"]) if merged.get("label") else None,
            raw_category=str(merged["category"]) if merged.get("category") else None,
            abuse=abuse,
            confidence=str(merged["confidence"]) if merged.get("confidence") else None,
            source=source,
            currency=currency,
        )


def load_tagpack(path: Path) -> list[Attribution]:
    """One TagPack YAML file; a file that is not one raises InputError naming it."""
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not a readable TagPack: {type(exc).__name__}") from None
    if not isinstance(doc, Mapping):
        raise InputError(f"{path}: not a TagPack (no top-level mapping)")
    return list(tagpack_attributions(doc, source=str(path)))


def _ofac_currency(path: Path) -> str:
    stem = path.stem
    return stem.rsplit("_", 1)[-1].upper() if "_" in stem else stem.upper()


def load_ofac(path: Path) -> list[Attribution]:
    """An OFAC list from 0xB10C/ofac-sanctioned-digital-currency-addresses (.json or .txt)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read OFAC list: {type(exc).__name__}") from None
    if path.suffix == ".json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise InputError(f"{path}: OFAC list is not valid JSON") from None
        if not isinstance(items, list):
            raise InputError(f"{path}: OFAC list is not a JSON array")
        addresses = [str(a) for a in items]
    else:
        addresses = [line.strip() for line in text.splitlines()]
    currency = _ofac_currency(path)
    return [
        Attribution(
            address=a, family=address_family(a, currency), category="sanctioned",
            entity="OFAC SDN list", label=f"OFAC sanctioned ({currency})",
            raw_category="sanction", abuse="sanction", confidence="authority_data",
            source=str(path), currency=currency,
        )
        for a in addresses
        if a and not a.startswith("#")
    ]


_FORTA_COLUMNS = (
    ("address", "etherscan_tag"),
    ("banned_address", "wallet_tag"),
    ("contract_address", "contract_tag"),
)


def _forta_category(row: Mapping[str, str]) -> str:
    text = " ".join(str(v).lower() for v in row.values() if v)
    if "exploit" in text or "heist" in text or ("hack" in text and "phish" not in text):
        return "hack"
    return "scam"


def load_forta(path: Path) -> list[Attribution]:
    """A labelled-datasets CSV of forta-network (phishing, malicious contracts)."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read Forta CSV: {type(exc).__name__}") from None
    out: list[Attribution] = []
    for row in rows:
        for addr_col, tag_col in _FORTA_COLUMNS:
            address = (row.get(addr_col) or "").strip()
            if address:
                tag = (row.get(tag_col) or "").strip() or "Forta malicious label"
                out.append(Attribution(
                    address=address, family="evm", category=_forta_category(row),
                    entity=tag, label=tag, confidence="forta_labelled",
                    source=str(path), currency="ETH",
                ))
                break
    return out


def _files(paths: Iterable[Path], suffixes: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in suffixes and p.is_file()))
        elif path.exists():
            out.append(path)
        else:
            raise InputError(f"attribution file {path} does not exist")
    return out


def _ofac_files(paths: Iterable[Path]) -> list[Path]:
    files = _files(paths, (".json", ".txt"))
    # A snapshot holds both forms of each list; read the JSON one and skip its twin.
    stems = {p.with_suffix("") for p in files if p.suffix == ".json"}
    return [p for p in files if p.suffix == ".json" or p.with_suffix("") not in stems]


def build_index(
    tagpacks: Iterable[Path] = (), ofac: Iterable[Path] = (), forta: Iterable[Path] = ()
) -> AttributionIndex:
    """Loads every file (or folder of files) given; actor packs are skipped."""
    index = AttributionIndex()
    for path in _files(tagpacks, (".yaml", ".yml")):
        if path.name.endswith("actorpack.yaml"):
            continue
        _add_all(index, path, load_tagpack(path))
    for path in _ofac_files(ofac):
        _add_all(index, path, load_ofac(path))
    for path in _files(forta, (".csv",)):
        _add_all(index, path, load_forta(path))
    return index


def _add_all(index: AttributionIndex, path: Path, items: list[Attribution]) -> None:
    for item in items:
        index.add(item)
    index.sources.append(str(path))
