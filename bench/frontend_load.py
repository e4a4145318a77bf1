"""Front-end load on a slow phone network: bundle sizes, time to a usable login, start to first question.

    .venv/bin/python -m bench.frontend_load [--runs 3] [--down-kbps 400] [--up-kbps 400] [--rtt-ms 400]

Builds nothing: reads frontend/dist (build it first: cd frontend && npm ci && npm run build).

1. Sizes: the JS and CSS index.html loads (what the login screen needs before it can draw) and
   what the browser fetched up to the first question of a quiz (the network log of the run below),
   raw and gzip -9; with the Vite manifest (dist/.vite/manifest.json) when there is one.
   Goal: at most 150 KB gzip of JS for the login and quiz screens.
2. Timings with Debian's Chromium (the browser tests' flags) through Chrome DevTools network
   emulation (`Network.emulateNetworkConditions`: slow 3G, 400 kbit/s each way, 400 ms RTT),
   cache disabled, a fresh phone context per run, against the real app started like the browser
   tests start it (tests/browser/harness.py: SQLite, seeded, uvicorn on 127.0.0.1):
   - login: navigation start → login-submit visible and enabled;
   - start: pressing home-start-{quiz} → question-stem visible. Goal: at most 3 s.
   Both are read inside the page (performance.now(), polled every animation frame).
3. Floors, same run, same emulation: a tiny static HTML page from the same server (navigation
   start → its button visible), and one `fetch` of POST /api/v1/quizzes/{id}/attempts from a
   page (the start's own round trip and paper). Ratios app/floor are the comparable figures.

Writes bench/results/frontend_load-<UTC timestamp>.json.
"""

import argparse
import gzip
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from bench.common import machine, ratio, write_results
from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FRONTEND_DIST,
    PASSWORD,
    RunningApp,
    start_app,
)

GOAL_JS_GZIP_KB = 150.0
GOAL_START_TO_QUESTION_S = 3.0
FLOOR_PAGE = "bench-floor.html"
FLOOR_HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>floor</title></head>
<body><button data-testid="login-submit">登录</button></body></html>
"""
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
# True (as performance.now()) once the element is on screen and, for buttons, usable.
VISIBLE_JS = """([testId, needEnabled]) => {
    const el = document.querySelector(`[data-testid="${testId}"]`);
    if (!el) return false;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') return false;
    if (needEnabled && (el.disabled || el.getAttribute('aria-disabled') === 'true' ||
        /van-button--(disabled|loading)/.test(el.className))) return false;
    return performance.now();
}"""


class _Assets(HTMLParser):
    """The scripts (`src`, or `data-src` of @vitejs/plugin-legacy's SystemJS entry), module preloads
    and stylesheets index.html names.

    `nomodule` scripts are loaded only by browsers without ES modules: counted apart, as `legacy_js`.
    A legacy-only build (renderModernChunks: false) has no `nomodule` scripts: everything loads them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.js: list[str] = []
        self.css: list[str] = []
        self.legacy_js: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            source = a.get("src") or a.get("data-src")
            if source:
                (self.legacy_js if "nomodule" in a else self.js).append(source)
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if rel == "modulepreload":
                self.js.append(str(a["href"]))
            elif rel == "stylesheet":
                self.css.append(str(a["href"]))


def _dist_file(dist: Path, url_path: str) -> Path | None:
    path = (dist / urlparse(url_path).path.lstrip("/")).resolve()
    return path if path.is_file() and path.is_relative_to(dist.resolve()) else None


def _sizes(dist: Path, url_paths: list[str]) -> dict[str, Any]:
    files: dict[str, dict[str, int]] = {}
    missing: list[str] = []
    for url_path in dict.fromkeys(url_paths):
        path = _dist_file(dist, url_path)
        if path is None:
            missing.append(url_path)
            continue
        data = path.read_bytes()
        files[str(path.relative_to(dist))] = {"raw": len(data), "gzip": len(gzip.compress(data, 9))}
    return {
        "files": files,
        "raw_kb": round(sum(f["raw"] for f in files.values()) / 1024, 1),
        "gzip_kb": round(sum(f["gzip"] for f in files.values()) / 1024, 1),
        "missing": missing,
    }


def _manifest_sizes(dist: Path) -> dict[str, Any] | None:
    """With the Vite manifest: the entry's static graph, and each lazy screen's own chunk graph."""
    path = dist / ".vite" / "manifest.json"
    if not path.is_file():
        return None
    manifest: dict[str, dict[str, Any]] = json.loads(path.read_text())

    def graph(key: str, seen: set[str]) -> set[str]:
        if key in seen or key not in manifest:
            return seen
        seen.add(key)
        for child in manifest[key].get("imports", []):
            graph(child, seen)
        return seen

    def files(keys: set[str]) -> tuple[list[str], list[str]]:
        js = [manifest[k]["file"] for k in keys if manifest[k]["file"].endswith(".js")]
        css = [c for k in keys for c in manifest[k].get("css", [])]
        return js, css

    entries = [k for k, v in manifest.items() if v.get("isEntry")]
    initial: set[str] = set()
    for key in entries:
        graph(key, initial)
    screens: dict[str, Any] = {}
    for key in manifest:
        if re.search(r"(login|quiz|attempt|question|password)", key, re.I) and key not in initial:
            js, css = files(graph(key, set()) - initial)
            screens[key] = {"js": _sizes(dist, js), "css": _sizes(dist, css)}
    js, css = files(initial)
    return {"entry": {"js": _sizes(dist, js), "css": _sizes(dist, css)}, "lazy_screens": screens}


def _throttled_page(browser: Browser, down_kbps: float, up_kbps: float, rtt_ms: float) -> Page:
    context = browser.new_context(**PHONE)
    context.set_default_timeout(120_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": rtt_ms,
            "downloadThroughput": down_kbps * 1000 / 8,
            "uploadThroughput": up_kbps * 1000 / 8,
        },
    )
    return page


def _wait_visible(page: Page, test_id: str, *, enabled: bool = False, timeout_ms: float = 120_000) -> float:
    handle = page.wait_for_function(VISIBLE_JS, arg=[test_id, enabled], polling="raf", timeout=timeout_ms)
    value: float = handle.json_value()
    return value


def _fill(page: Page, test_id: str, text: str) -> None:
    page.locator(
        f"[data-testid='{test_id}'] input, input[data-testid='{test_id}'], "
        f"[data-testid='{test_id}'] textarea, textarea[data-testid='{test_id}']"
    ).first.fill(text)


def measure_app(
    browser: Browser, app: RunningApp, username: str, net: tuple[float, float, float]
) -> dict[str, Any]:
    """One cold run: the login screen, then (after logging in) start → first question."""
    page = _throttled_page(browser, *net)
    fetched: list[dict[str, Any]] = []
    phase = ["login"]

    def record(response: Any) -> None:
        request = response.request
        if request.resource_type in ("script", "stylesheet") and response.url.startswith(app.base_url):
            fetched.append(
                {
                    "phase": phase[0],
                    "type": request.resource_type,
                    "path": urlparse(response.url).path,
                    "encoding": response.headers.get("content-encoding", ""),
                }
            )

    page.on("response", record)
    page.goto(app.base_url + "/", wait_until="commit")
    login_ms = _wait_visible(page, "login-submit", enabled=True)
    phase[0] = "home"
    _fill(page, "login-username", username)
    _fill(page, "login-password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    quiz_id = app.seed.main_quiz_id
    _wait_visible(page, f"home-start-{quiz_id}", enabled=True)
    phase[0] = "quiz"
    page.evaluate(
        """(testId) => document.addEventListener('click', (event) => {
            if (event.target.closest(`[data-testid="${testId}"]`)) window.__benchStart = performance.now();
        }, true)""",
        f"home-start-{quiz_id}",
    )
    page.get_by_test_id(f"home-start-{quiz_id}").click()
    shown_ms = _wait_visible(page, "question-stem")
    clicked_ms: float = page.evaluate("window.__benchStart")
    page.context.close()
    return {"login_ms": login_ms, "start_to_question_ms": shown_ms - clicked_ms, "fetched": fetched}


def measure_floors(
    browser: Browser, app: RunningApp, username: str, net: tuple[float, float, float]
) -> dict[str, float]:
    """The same emulated network: a tiny page from the same server, and one bare start request."""
    token = httpx.post(
        f"{app.base_url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    ).json()["access_token"]
    page = _throttled_page(browser, *net)
    page.goto(f"{app.base_url}/{FLOOR_PAGE}", wait_until="commit")
    page_ms = _wait_visible(page, "login-submit", enabled=True)
    start_ms: float = page.evaluate(
        """async ([quizId, token]) => {
            const t0 = performance.now();
            const answer = await fetch(`/api/v1/quizzes/${quizId}/attempts`,
                {method: 'POST', headers: {Authorization: `Bearer ${token}`}});
            if (!answer.ok) throw new Error(`start answered ${answer.status}`);
            await answer.json();
            return performance.now() - t0;
        }""",
        [app.seed.main_quiz_id, token],
    )
    page.context.close()
    return {"page_ms": page_ms, "start_request_ms": start_ms}


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--down-kbps", type=float, default=400)
    parser.add_argument("--up-kbps", type=float, default=400)
    parser.add_argument("--rtt-ms", type=float, default=400)
    parser.add_argument("--dist", type=Path, default=FRONTEND_DIST, help="the built SPA (frontend/dist)")
    args = parser.parse_args()
    dist: Path = args.dist
    index = dist / "index.html"
    if not index.is_file():
        sys.exit(f"{index} is missing: build the front end first (cd frontend && npm ci && npm run build)")

    net = (args.down_kbps, args.up_kbps, args.rtt_ms)
    runs: list[dict[str, Any]] = []
    floors: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="yingzhi-bench-frontend-") as folder:
        # A private copy: sizes and timings are of one build even if frontend/dist is rebuilt meanwhile.
        served = Path(folder) / "dist"
        shutil.copytree(dist, served)
        assets = _Assets()
        assets.feed((served / "index.html").read_text())
        initial = {"js": _sizes(served, assets.js), "css": _sizes(served, assets.css)}
        legacy = _sizes(served, assets.legacy_js)
        manifest = _manifest_sizes(served)
        (served / FLOOR_PAGE).write_text(FLOOR_HTML)
        print("· starting the app (SQLite, seeded) …", flush=True)
        app = start_app(Path(folder), frontend_dist=served, bench_officers=2 * args.runs)
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                officers = app.seed.bench_officers
                for n in range(args.runs):
                    # Alternate app and floor so that a slow moment of the machine hits both.
                    floors.append(measure_floors(browser, app, officers[2 * n + 1], net))
                    run = measure_app(browser, app, officers[2 * n], net)
                    runs.append(run)
                    print(
                        f"  run {n + 1}: login {run['login_ms']:.0f} ms (floor {floors[-1]['page_ms']:.0f}), "
                        f"start→question {run['start_to_question_ms']:.0f} ms "
                        f"(floor {floors[-1]['start_request_ms']:.0f})",
                        flush=True,
                    )
                browser.close()
        finally:
            app.stop()

        fetched = runs[0]["fetched"]
        by_phase: dict[str, Any] = {}
        for phases in (("login",), ("login", "home", "quiz")):
            js = [f["path"] for f in fetched if f["phase"] in phases and f["type"] == "script"]
            css = [f["path"] for f in fetched if f["phase"] in phases and f["type"] == "stylesheet"]
            by_phase["+".join(phases)] = {"js": _sizes(served, js), "css": _sizes(served, css)}
    quiz_js_gzip = by_phase["login+home+quiz"]["js"]["gzip_kb"]
    login_ms = _median([r["login_ms"] for r in runs])
    start_ms = _median([r["start_to_question_ms"] for r in runs])
    floor_page = _median([f["page_ms"] for f in floors])
    floor_start = _median([f["start_request_ms"] for f in floors])
    compressed = sorted({f["encoding"] or "identity" for f in fetched})
    # Transfer time of the login screen's JS + CSS alone at the emulated bandwidth: as served
    # (raw when uncompressed) and as it would be gzip-compressed.
    login_set = by_phase["login"]
    bytes_per_s = args.down_kbps * 1000 / 8
    transfer_s = {
        "raw": round((login_set["js"]["raw_kb"] + login_set["css"]["raw_kb"]) * 1024 / bytes_per_s, 2),
        "gzip": round((login_set["js"]["gzip_kb"] + login_set["css"]["gzip_kb"]) * 1024 / bytes_per_s, 2),
    }
    results: dict[str, Any] = {
        "benchmark": "frontend_load",
        "machine": machine(),
        "config": {
            "runs": args.runs,
            "network": {"down_kbps": args.down_kbps, "up_kbps": args.up_kbps, "rtt_ms": args.rtt_ms},
            "chromium": CHROMIUM,
            "dist": str(dist),
            "cache": "disabled, fresh context per run",
        },
        "sizes": {
            "index_html_initial": initial,
            "index_html_legacy_nomodule_js": legacy,
            "network_log": by_phase,
            "manifest": manifest,
            "served_content_encoding": compressed,
            "login_assets_transfer_s": transfer_s,
        },
        "timings_ms": {
            "login_usable": {"median": login_ms, "runs": [round(r["login_ms"], 1) for r in runs]},
            "start_to_question": {
                "median": start_ms,
                "runs": [round(r["start_to_question_ms"], 1) for r in runs],
            },
        },
        "floors_ms": {
            "tiny_page": {"median": floor_page, "runs": [round(f["page_ms"], 1) for f in floors]},
            "start_request": {
                "median": floor_start,
                "runs": [round(f["start_request_ms"], 1) for f in floors],
            },
        },
        "ratios": {
            "login_usable / tiny_page": round(ratio(login_ms, floor_page), 2),
            "start_to_question / start_request": round(ratio(start_ms, floor_start), 2),
        },
        "goals": {
            "js_gzip_kb_login_and_quiz": {
                "value": quiz_js_gzip,
                "goal": GOAL_JS_GZIP_KB,
                "met": quiz_js_gzip <= GOAL_JS_GZIP_KB,
            },
            "start_to_question_s": {
                "value": round(start_ms / 1000, 2),
                "goal": GOAL_START_TO_QUESTION_S,
                "met": start_ms / 1000 <= GOAL_START_TO_QUESTION_S,
            },
        },
        "finished_at": time.time(),
    }
    path = write_results("frontend_load", results)

    print("\nSizes (KB, gzip -9 / raw):")
    for label, group in [("index.html initial", initial), *by_phase.items()]:
        print(
            f"  {label:<22} JS {group['js']['gzip_kb']:>7.1f} / {group['js']['raw_kb']:>7.1f}   "
            f"CSS {group['css']['gzip_kb']:>6.1f} / {group['css']['raw_kb']:>6.1f}"
        )
    print(f"  {'legacy (nomodule) JS':<22} JS {legacy['gzip_kb']:>7.1f} / {legacy['raw_kb']:>7.1f}")
    print(f"  served with content-encoding: {', '.join(compressed)}")
    print(
        f"  login JS+CSS transfer at {args.down_kbps:.0f} kbit/s: {transfer_s['raw']} s raw, "
        f"{transfer_s['gzip']} s if gzip-compressed"
    )
    print(f"\nSlow 3G ({args.down_kbps:.0f}/{args.up_kbps:.0f} kbit/s, {args.rtt_ms:.0f} ms RTT), medians:")
    print(
        f"  login usable        {login_ms:>8.0f} ms   floor (tiny page)     {floor_page:>6.0f} ms   ", end=""
    )
    print(f"ratio {results['ratios']['login_usable / tiny_page']}")
    print(
        f"  start → question    {start_ms:>8.0f} ms   floor (start request) {floor_start:>6.0f} ms   ", end=""
    )
    print(f"ratio {results['ratios']['start_to_question / start_request']}")
    for goal, figures in results["goals"].items():
        verdict = "met" if figures["met"] else "NOT met"
        print(f"  goal {goal}: {figures['value']} (≤ {figures['goal']}) {verdict}")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
