"""Settings: the config file, ACCTSEC_* variables and flags, merged and validated once."""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from acctsec.errors import ConfigError

SECRET_FIELDS = frozenset({"etherscan_api_key", "trongrid_api_key"})


@dataclass(frozen=True)
class Settings:
    """Every setting acctsec reads. Secrets never appear in repr or output."""

    source: str | None = None  # a folder, or a sqlite:///, duckdb:///, postgresql:// URL
    cache_dir: Path | None = None
    data_dir: Path | None = None
    no_cache: bool = False
    offline: bool = True
    rdap_timeout_s: float = 5.0
    city_mmdb: Path | None = None
    asn_mmdb: Path | None = None
    tagpacks: tuple[Path, ...] = ()
    ofac: tuple[Path, ...] = ()
    forta: tuple[Path, ...] = ()
    rpc_urls: Mapping[str, str] = field(default_factory=dict)
    etherscan_url: str = "https://api.etherscan.io/v2/api"
    etherscan_api_key: str | None = field(default=None, repr=False)
    esplora_url: str = "https://blockstream.info/api"
    trongrid_url: str = "https://api.trongrid.io"
    trongrid_api_key: str | None = field(default=None, repr=False)
    requests_per_second: float = 4.0
    http_timeout_s: float = 20.0
    intel_urls: Mapping[str, str] = field(default_factory=dict)

    def resolved_cache_dir(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("acctsec"))

    def resolved_data_dir(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir
        from platformdirs import user_data_dir

        return Path(user_data_dir("acctsec"))


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    if env is not None and env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "acctsec" / "config.toml"
    from platformdirs import user_config_dir

    return Path(user_config_dir("acctsec")) / "config.toml"


def load_settings(
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Config file, then ACCTSEC_* variables, then flags; each later one wins."""
    env = os.environ if environ is None else environ
    path = config_path or (Path(env["ACCTSEC_CONFIG"]) if env.get("ACCTSEC_CONFIG") else None)
    explicit = path is not None
    path = path or default_config_path(env)
    values: dict[str, Any] = {}
    if path.exists():
        values.update(_read_toml(path))
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")
    values.update(_read_env(env))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _validate(values, origin=str(path))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    names = {f.name for f in fields(Settings)}
    out: dict[str, Any] = {}
    for key, value in env.items():
        if not key.startswith("ACCTSEC_") or key == "ACCTSEC_CONFIG":
            continue
        name = key.removeprefix("ACCTSEC_").lower()
        if name in names and value.strip():  # an empty variable means "not set"
            out[name] = value
    return out


def _validate(values: Mapping[str, Any], origin: str) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    converted: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in known:
            raise ConfigError(f"{origin}: unknown setting {name!r}")
        converted[name] = _convert(name, raw, Settings.__dataclass_fields__[name].type)
    for name in ("cache_dir", "data_dir"):  # folders acctsec writes to: a file is a mistake
        folder = converted.get(name)
        if isinstance(folder, Path) and folder.exists() and not folder.is_dir():
            raise ConfigError(f"setting {name!r}: {folder} is a file, not a folder")
    return replace(Settings(), **converted)


def _convert(name: str, raw: Any, type_name: Any) -> Any:
    kind = str(type_name)
    try:
        if kind == "bool":
            return _to_bool(raw)
        if kind == "float":
            value = float(raw)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"must be a positive number, got {raw!r}")
            return value
        if kind.startswith("Path"):
            return Path(os.path.expanduser(str(raw)))
        if kind.startswith("tuple[Path"):
            items = raw.split(os.pathsep) if isinstance(raw, str) else list(raw)
            return tuple(Path(os.path.expanduser(str(p))) for p in items if str(p))
        if kind.startswith("Mapping"):
            if not isinstance(raw, Mapping):
                raise ValueError("must be a table of names to strings")
            return {str(k): str(v) for k, v in raw.items()}
        if kind.startswith("str"):
            return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: {exc}") from None
    raise ConfigError(f"setting {name!r}: unsupported type {kind}")


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")
