"""Settings: file, environment and flags merged once; bad fields named; secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from acctsec.config import load_settings
from acctsec.errors import ConfigError


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('source = "/from/file"\noffline = false\nrdap_timeout_s = 2\n'
                      '[rpc_urls]\nETH = "http://localhost:8545"\n', encoding="utf-8")
    settings = load_settings(config, environ={"ACCTSEC_RDAP_TIMEOUT_S": "3"},
                             overrides={"source": Path("/from/flag"), "offline": None})
    assert settings.source == "/from/flag"
    assert settings.offline is False
    assert settings.rdap_timeout_s == 3.0
    assert settings.rpc_urls == {"ETH": "http://localhost:8545"}


@pytest.mark.parametrize(
    ("text", "message"),
    [("offline = \"maybe\"\n", "'offline'"), ("sorce = \"x\"\n", "unknown setting 'sorce'"),
     ("rdap_timeout_s = -1\n", "'rdap_timeout_s'"), ("source = [\n", "not valid TOML")],
)
def test_bad_settings_are_named(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config, environ={})


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "none.toml", environ={})


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    settings = load_settings(environ={"XDG_CONFIG_HOME": str(tmp_path),
                                      "ACCTSEC_ETHERSCAN_API_KEY": "sekret-123"})
    assert settings.etherscan_api_key == "sekret-123"
    assert "sekret-123" not in repr(settings)


def test_empty_variables_are_unset_and_nan_is_refused(tmp_path: Path) -> None:
    settings = load_settings(environ={"XDG_CONFIG_HOME": str(tmp_path), "ACCTSEC_SOURCE": ""})
    assert settings.source is None
    with pytest.raises(ConfigError, match="rdap_timeout_s"):
        load_settings(environ={"XDG_CONFIG_HOME": str(tmp_path), "ACCTSEC_RDAP_TIMEOUT_S": "nan"})


def test_a_database_url_in_the_config_keeps_its_slashes(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('source = "sqlite:///data/x.db"\n', encoding="utf-8")
    assert load_settings(config, environ={}).source == "sqlite:///data/x.db"


def test_a_cache_or_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    """ACCTSEC_CACHE_DIR pointing at a file failed later with "...: File exists"."""
    afile = tmp_path / "notes.txt"
    afile.write_text("x", encoding="utf-8")
    for name in ("CACHE_DIR", "DATA_DIR"):
        with pytest.raises(ConfigError, match=f"setting '{name.lower()}': .*is a file, not a "
                                              "folder"):
            load_settings(None, environ={f"ACCTSEC_{name}": str(afile)})
    with pytest.raises(ConfigError, match="cache_dir"):
        load_settings(None, environ={}, overrides={"cache_dir": afile})
    assert load_settings(None, environ={"ACCTSEC_CACHE_DIR": str(tmp_path / "new")}).cache_dir
