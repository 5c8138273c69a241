"""User-Agent strings reduced to browser, OS and device class, with automation clients named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ua_parser import Result

DEVICE_CLASSES = ("desktop", "mobile", "tablet", "bot", "library", "unknown")

# Automation clients, checked before any browser parsing: an HTTP library or a
# headless browser logging in is the mark of credential stuffing. First match wins.
# (pattern, client name, device class)
AUTOMATION_CLIENTS: tuple[tuple[str, str, str], ...] = (
    (r"HeadlessChrome/(\d+)", "HeadlessChrome", "bot"),
    (r"PhantomJS/(\d+)", "PhantomJS", "bot"),
    (r"\bSelenium\b|\bwebdriver\b", "Selenium", "bot"),
    (r"\bPuppeteer\b", "Puppeteer", "bot"),
    (r"\bPlaywright\b", "Playwright", "bot"),
    (r"python-requests/(\d+)", "python-requests", "library"),
    (r"python-httpx/(\d+)", "python-httpx", "library"),
    (r"aiohttp/(\d+)", "aiohttp", "library"),
    (r"Python-urllib/(\d+)", "Python-urllib", "library"),
    (r"^Scrapy/(\d+)", "Scrapy", "bot"),
    (r"^curl/(\d+)|\blibcurl/(\d+)", "curl", "library"),
    (r"^Wget/(\d+)", "Wget", "library"),
    (r"Go-http-client/(\d+)", "Go-http-client", "library"),
    (r"^okhttp/(\d+)", "okhttp", "library"),  # apps append okhttp after their own name
    (r"^axios/(\d+)", "axios", "library"),
    (r"^node-fetch/(\d+)|^node\b|^undici\b", "node-fetch", "library"),
    (r"^got\b", "got", "library"),
    (r"Apache-HttpClient/(\d+)", "Apache-HttpClient", "library"),
    (r"Java-http-client/(\d+)|^Java/(\d+)", "Java HttpClient", "library"),
    (r"^Dalvik/(\d+)", "Dalvik", "library"),
    (r"^PostmanRuntime/(\d+)", "Postman", "library"),
    (r"^insomnia/(\d+)", "Insomnia", "library"),
    (r"^libwww-perl/(\d+)", "libwww-perl", "library"),
    (r"^Ruby\b|^Faraday\b", "Ruby", "library"),
    (r"^GuzzleHttp/(\d+)", "Guzzle", "library"),
    (r"^RestSharp/(\d+)", "RestSharp", "library"),
    (r"^Mechanize\b|^WWW-Mechanize/(\d+)", "Mechanize", "library"),
    (r"bot\b|crawler|spider|slurp", "bot", "bot"),
)

# HTTP libraries that native Android apps send as their User-Agent: on the exchange's
# own app channels (or, with no channel recorded, naming Android) they are the app.
NATIVE_APP_CLIENTS = frozenset({"okhttp", "Dalvik"})
APP_CHANNELS = frozenset({"android", "ios"})

_AUTOMATION = tuple(
    (re.compile(pattern, re.IGNORECASE), name, kind) for pattern, name, kind in AUTOMATION_CLIENTS
)

_DESKTOP_OS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Debian", "Chrome OS", "FreeBSD",
     "OpenBSD", "NetBSD", "Solaris", "Arch Linux", "Mint", "Gentoo", "CentOS", "Red Hat"}
)
_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "HarmonyOS", "Symbian OS",
     "Firefox OS", "Tizen", "webOS", "Sailfish"}
)
_TABLET = re.compile(r"iPad|Tablet|Tab\b|Kindle|Silk/|PlayBook|Nexus (7|9|10)\b", re.IGNORECASE)
_MAX_LEN = 2048  # real User-Agent headers are far shorter; longer text is cut before parsing


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    """What a User-Agent header says about the client that sent it."""

    browser: str | None
    browser_major: str | None
    os: str | None
    os_major: str | None
    device_class: str  # one of DEVICE_CLASSES
    family_key: str  # short, stable: "Chrome/Windows/desktop", used to compare devices
    raw: str | None

    @property
    def automated(self) -> bool:
        """True for HTTP libraries, headless browsers and crawlers, and an empty header."""
        return self.device_class in ("bot", "library")

    def automated_on(self, channel: str | None) -> bool:
        """Automated, for a sign-in on `channel`: the API channel is for programs, and a
        native app's own HTTP library on the app channels is the app."""
        if channel == "api":
            return False
        app = self.browser in NATIVE_APP_CLIENTS and (
            channel in APP_CHANNELS or (channel is None and "android" in (self.raw or "").lower()))
        return self.automated and not app


def parse_user_agent(ua: str | None) -> UserAgentInfo:
    """Browser, OS and device class of a raw User-Agent header. Never raises."""
    if ua is None:
        return UserAgentInfo(None, None, None, None, "unknown", "unrecorded", None)
    return _parse_cached(ua)


@lru_cache(maxsize=65536)
def _parse_cached(ua: str) -> UserAgentInfo:
    text = ua[:_MAX_LEN]
    if not text.strip():
        return UserAgentInfo(None, None, None, None, "library", "empty/-/library", ua)
    automated = _automation_client(text, ua)
    if automated is not None:
        return automated
    return _fast_parse(text, ua) or _from_ua_parser(text, ua)


# The common browsers and apps, read with a few patterns: ua_parser costs ~0.3 s to
# load, more than a whole investigation may take. Order matters: Edge and Opera
# also say "Chrome", Chrome also says "Safari".
_FAST_OS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:iPhone|iPad|iPod)\b.*?\bOS (\d+)[_.]"), "iOS"),
    (re.compile(r"\biOS (\d+)"), "iOS"),
    (re.compile(r"\bAndroid (\d+)"), "Android"),
    (re.compile(r"\bWindows NT (\d+)"), "Windows"),
    (re.compile(r"\bMac OS X (\d+)"), "Mac OS X"),
    (re.compile(r"\bCrOS\b"), "Chrome OS"),
    (re.compile(r"\b(?:Ubuntu|Fedora)\b|\bX11; Linux\b"), "Linux"),
)
_FAST_BROWSER: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bEdg(?:e|A|iOS)?/(\d+)"), "Edge"),
    (re.compile(r"\b(?:OPR|Opera)/(\d+)"), "Opera"),
    (re.compile(r"\bSamsungBrowser/(\d+)"), "Samsung Internet"),
    (re.compile(r"\bFxiOS/(\d+)"), "Firefox iOS"),
    (re.compile(r"\bFirefox/(\d+)"), "Firefox"),
    (re.compile(r"\bCriOS/(\d+)"), "Chrome Mobile iOS"),
    (re.compile(r"\bChrome/(\d+)"), "Chrome"),
    (re.compile(r"\bVersion/(\d+)[\d.]* (?:Mobile/\S+ )?Safari/"), "Safari"),
)
# ua_parser's names on phones, kept so both paths agree.
_MOBILE_NAMES = {"Safari": "Mobile Safari", "Chrome": "Chrome Mobile",
                 "Firefox": "Firefox Mobile"}
_APP = re.compile(r"^([A-Za-z][\w .-]{1,40})/(\d+)[\w.]* \(")


def _fast_parse(text: str, raw: str) -> UserAgentInfo | None:
    os_name, os_major = _fast_os(text)
    if os_name is None:
        return None
    browser, major = _fast_browser(text)
    if browser is None and not text.startswith("Mozilla/"):
        app = _APP.match(text)
        browser, major = (app.group(1), app.group(2)) if app else (None, None)
    if browser is None:
        return None
    if os_name in ("iOS", "Android"):
        browser = _MOBILE_NAMES.get(browser, browser)
    if _TABLET.search(text) or (os_name == "Android" and "Mobile" not in text
                                and text.startswith("Mozilla/")):
        device_class = "tablet"
    else:
        device_class = "mobile" if os_name in _MOBILE_OS else "desktop"
    return UserAgentInfo(browser, major, os_name, os_major, device_class,
                         _key(browser, os_name, device_class), raw)


def _fast_os(text: str) -> tuple[str | None, str | None]:
    for pattern, name in _FAST_OS:
        match = pattern.search(text)
        if match:
            return name, (match.group(1) if match.groups() else None)
    return None, None


def _fast_browser(text: str) -> tuple[str | None, str | None]:
    if not text.startswith("Mozilla/"):
        return None, None
    for pattern, name in _FAST_BROWSER:
        match = pattern.search(text)
        if match:
            return name, match.group(1)
    return None, None


def _automation_client(text: str, raw: str) -> UserAgentInfo | None:
    for pattern, name, kind in _AUTOMATION:
        match = pattern.search(text)
        if match is None:
            continue
        major = next((g for g in match.groups() if g), None)
        os_name = _os_hint(text) if kind == "bot" else None
        return UserAgentInfo(name, major, os_name, None, kind, _key(name, os_name, kind), raw)
    return None


def _os_hint(text: str) -> str | None:
    for token, name in (("Windows", "Windows"), ("Mac OS X", "Mac OS X"), ("Linux", "Linux")):
        if token in text:
            return name
    return None


def _from_ua_parser(text: str, raw: str) -> UserAgentInfo:
    result = _ua_parse(text)
    browser = result.user_agent.family if result.user_agent else None
    browser_major = result.user_agent.major if result.user_agent else None
    os_name = result.os.family if result.os else None
    os_major = result.os.major if result.os else None
    device_class = _device_class(text, result, os_name)
    if browser == "Other":
        browser = None
    if os_name == "Other":
        os_name = None
    return UserAgentInfo(
        browser, browser_major, os_name, os_major, device_class,
        _key(browser, os_name, device_class), raw,
    )


def _ua_parse(text: str) -> Result:
    import ua_parser  # heavy (~0.3 s on first use): only when a UA needs it

    return ua_parser.parse(text)


def _device_class(text: str, result: Result, os_name: str | None) -> str:
    device = result.device
    if device is not None and device.family == "Spider":
        return "bot"
    if _TABLET.search(text) or (os_name == "Android" and "Mobile" not in text):
        return "tablet" if os_name in _MOBILE_OS or "iPad" in text else "unknown"
    if os_name in _MOBILE_OS:
        return "mobile"
    if os_name in _DESKTOP_OS:
        return "desktop"
    return "unknown"


def _key(browser: str | None, os_name: str | None, device_class: str) -> str:
    return f"{browser or '-'}/{os_name or '-'}/{device_class}"
