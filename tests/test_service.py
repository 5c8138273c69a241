"""investigate end to end through the service layer: attribution of deposits, funds tracing."""

from __future__ import annotations

from pathlib import Path

import pytest

from acctsec import service
from acctsec.config import load_settings
from acctsec.errors import InputError
from acctsec.service import investigate, open_source
from conftest import SHARED

TORNADO = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"


def write(folder: Path, deposit_from: str) -> Path:
    folder.mkdir()
    (folder / "accounts.csv").write_text("uid,email\n5,x@example.com\n", encoding="utf-8")
    (folder / "transactions.csv").write_text(
        "ts,uid,kind,asset,network,amount,usd_value,address,txhash,status\n"
        f"2026-10-01T00:00:00Z,5,deposit,ETH,ETH,3,9000,{deposit_from},0x{'1' * 64},completed\n",
        encoding="utf-8",
    )
    return folder


def settings_for(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    base = {"XDG_CONFIG_HOME": str(tmp_path), "ACCTSEC_DATA_DIR": str(tmp_path / "data"),
            "ACCTSEC_CACHE_DIR": str(tmp_path / "cache")}
    return load_settings(environ={**base, **env})


def test_deposit_from_a_sanctioned_mixer_in_real_tagpacks_is_flagged(tmp_path: Path) -> None:
    packs = SHARED / "data" / "tagpacks" / "packs"
    if not packs.is_dir():
        pytest.skip("../shared/data/tagpacks is absent")
    settings = settings_for(tmp_path, ACCTSEC_TAGPACKS=str(packs))
    folder = write(tmp_path / "src", TORNADO)
    report = investigate(settings, open_source(settings, folder), "5")
    flagged = [s for s in report.signals if s.id == "deposit_from_flagged_address"]
    assert flagged, [s.id for s in report.signals]
    # Tornado Cash is both a mixer and OFAC-sanctioned: the most severe attribution wins.
    assert "sanctioned" in flagged[0].explanation
    assert not [n for n in report.not_checked if n.check == "attribution"]


def test_without_attribution_data_it_says_not_checked(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    folder = write(tmp_path / "src", TORNADO)
    report = investigate(settings, open_source(settings, folder), "5")
    assert not [s for s in report.signals if s.id == "deposit_from_flagged_address"]
    assert [n for n in report.not_checked if n.check == "attribution"]


def test_takeover_withdrawals_offline_are_listed_as_not_traced(examples_dir: Path,
                                                               tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    report = investigate(settings, open_source(settings, examples_dir), "10007")
    assert report.verdict.label == "takeover"
    funds = [n for n in report.not_checked if n.check == "funds"]
    assert funds and all("offline" in n.reason for n in funds)


def test_a_large_folder_is_investigated_from_the_cached_index_with_the_same_report(
        examples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past LARGE_BYTES, investigate answers from the batch index, link store and
    uid-sorted copies of the tables, built once in the cache: the report is the one
    the per-account pass gives."""
    from acctsec.batch.single import is_prepared
    from acctsec.core.report import to_dict
    from acctsec.sources import folder

    settings = load_settings(None, environ={}, overrides={"offline": True,
                                                           "cache_dir": tmp_path})
    uids = ["10007", "10100", "10200", "10290"]
    direct = service.open_source(settings, examples_dir)
    assert not direct.large
    expected = [to_dict(service.investigate(settings, direct, u)) for u in uids]
    monkeypatch.setattr(folder, "LARGE_BYTES", 0)
    large = service.open_source(settings, examples_dir)
    assert large.large
    assert not is_prepared(settings, examples_dir)
    got = [to_dict(service.investigate(settings, large, u)) for u in uids]
    for report in (*expected, *got):
        report.pop("generated_at")
    assert got == expected
    assert is_prepared(settings, examples_dir)
    # The CSV tables were read once into uid-sorted copies; the later accounts read those.
    copied = {p.stem for p in tmp_path.rglob("rows-all-*/*.parquet")}
    assert copied >= {"accounts", "logins", "security_events", "transactions"}
    with pytest.raises(InputError, match="unknown uid"):
        service.investigate(settings, large, "no-such-account")


def test_a_large_parquet_folder_reads_one_account_from_rows_sorted_once(
        examples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parquet tables are copied once, sorted by uid, into the cache; each account's
    rows then come from that copy, and the reports are the per-account pass's."""
    from acctsec.core.report import to_dict
    from acctsec.sources import folder
    from acctsec.sources.sql_load import load

    data = tmp_path / "parquet"
    load(examples_dir, str(data), "parquet")
    settings = load_settings(None, environ={}, overrides={"offline": True,
                                                           "cache_dir": tmp_path / "cache"})
    uids = ["10007", "10297", "10150"]

    def reports() -> list[dict]:
        source = service.open_source(settings, data)
        got = [to_dict(service.investigate(settings, source, u)) for u in uids]
        for report in got:
            report.pop("generated_at")
        return got

    expected = reports()
    monkeypatch.setattr(folder, "LARGE_BYTES", 0)
    assert reports() == expected
    sorted_rows = list((tmp_path / "cache").rglob("rows-all-*/*.parquet"))
    assert {p.stem for p in sorted_rows} >= {"logins", "transactions", "accounts"}
    assert reports() == expected  # from the copies made by the first call
