"""parse_user_agent: browsers, devices, automation clients, and never raising."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acctsec.intel.useragent import DEVICE_CLASSES, UserAgentInfo, parse_user_agent

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.0 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Mobile Safari/537.36"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"


@pytest.mark.parametrize(
    ("ua", "browser", "major", "os", "device_class", "key"),
    [
        (CHROME_WIN, "Chrome", "120", "Windows", "desktop", "Chrome/Windows/desktop"),
        (IPHONE, "Mobile Safari", "17", "iOS", "mobile", "Mobile Safari/iOS/mobile"),
        (IPAD, "Mobile Safari", "16", "iOS", "tablet", "Mobile Safari/iOS/tablet"),
        (ANDROID, "Chrome Mobile", "119", "Android", "mobile", "Chrome Mobile/Android/mobile"),
        (FIREFOX_MAC, "Firefox", "121", "Mac OS X", "desktop", "Firefox/Mac OS X/desktop"),
    ],
)
def test_browsers(ua: str, browser: str, major: str, os: str, device_class: str, key: str) -> None:
    info = parse_user_agent(ua)
    assert (info.browser, info.browser_major, info.os, info.device_class, info.family_key) == (
        browser, major, os, device_class, key,
    )
    assert info.raw == ua and not info.automated


@pytest.mark.parametrize(
    ("ua", "client", "device_class"),
    [
        ("python-requests/2.31.0", "python-requests", "library"),
        ("curl/8.4.0", "curl", "library"),
        ("Go-http-client/1.1", "Go-http-client", "library"),
        ("okhttp/4.9.0", "okhttp", "library"),
        ("axios/1.6.2", "axios", "library"),
        ("Java-http-client/17.0.2", "Java HttpClient", "library"),
        ("Apache-HttpClient/4.5.13 (Java/11.0.15)", "Apache-HttpClient", "library"),
        ("Python-urllib/3.11", "Python-urllib", "library"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/120.0.0.0 Safari/537.36",
            "HeadlessChrome", "bot",
        ),
        (
            "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
            "PhantomJS/2.1.1 Safari/538.1",
            "PhantomJS", "bot",
        ),
        ("Mozilla/5.0 Selenium/4.0", "Selenium", "bot"),
    ],
)
def test_automation_clients(ua: str, client: str, device_class: str) -> None:
    info = parse_user_agent(ua)
    assert (info.browser, info.device_class) == (client, device_class)
    assert info.automated


def test_empty_and_missing_user_agent() -> None:
    empty = parse_user_agent("")
    assert empty.device_class == "library" and empty.automated  # browsers always send one
    assert parse_user_agent("   ").device_class == "library"
    missing = parse_user_agent(None)
    assert missing.device_class == "unknown" and not missing.automated and missing.raw is None


def test_crawler() -> None:
    info = parse_user_agent("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")
    assert info.device_class == "bot"


def test_family_key_ignores_versions() -> None:
    older = CHROME_WIN.replace("Chrome/120.0.0.0", "Chrome/118.0.5993.88")
    assert parse_user_agent(older).family_key == parse_user_agent(CHROME_WIN).family_key
    assert parse_user_agent(IPHONE).family_key != parse_user_agent(IPAD).family_key


@given(st.text(max_size=3000))
def test_never_raises_on_any_text(ua: str) -> None:
    info = parse_user_agent(ua)
    assert isinstance(info, UserAgentInfo)
    assert info.device_class in DEVICE_CLASSES
    assert info.raw == ua
    assert info.family_key.count("/") >= 2


def test_hundred_thousand_rows_with_repeated_strings_are_fast() -> None:
    distinct = [f"{CHROME_WIN} build/{i}" for i in range(300)] + [IPHONE, ANDROID, "curl/8.0"]
    rows = [distinct[i % len(distinct)] for i in range(100_000)]
    parse_user_agent(CHROME_WIN)  # the parser's one-off start-up is not what is measured
    started = time.perf_counter()
    keys = {parse_user_agent(ua).family_key for ua in rows}
    elapsed = time.perf_counter() - started
    assert "Chrome/Windows/desktop" in keys and "curl/-/library" in keys
    assert elapsed < 3.0, f"100,000 rows took {elapsed:.2f} s"


def test_a_native_apps_http_library_on_the_app_channel_is_the_app() -> None:
    """Android apps built on OkHttp send its name as their User-Agent; on the exchange's
    app channel that is the app. On the web channel no browser sends it: a script."""
    app = parse_user_agent("okhttp/4.12.0 BNC/2.89.1 (Android 14; SM-S918B)")
    assert app.automated
    assert not app.automated_on("android") and not app.automated_on(None)
    assert app.automated_on("web")
    bare = parse_user_agent("okhttp/4.9.0")
    assert bare.automated_on(None) and not bare.automated_on("android")
    script = parse_user_agent("python-requests/2.31.0")
    assert script.automated_on("android") and not script.automated_on("api")
