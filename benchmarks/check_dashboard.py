"""Check the asv dashboard in a real headless browser: no JavaScript errors, and a
benchmark's graph is drawn.

    python benchmarks/check_dashboard.py [HTML_DIR] [--benchmark NAME] [--screenshot PNG]
                                         [--libraries DIR]

Serves ``HTML_DIR`` (default: ``.asv/html``, what ``asv publish`` writes) on 127.0.0.1,
drives Debian's Chromium (``apt-get install chromium``) over the DevTools protocol on
a pipe (``--remote-debugging-pipe``: the standard library is enough, no driver
package), opens the summary page and then one benchmark's graph page, and fails
(exit status 1) on any uncaught exception, ``console.error`` or script that failed to
load, or when no canvas of the graph has painted pixels. Prints what it saw; writes a
screenshot of the graph page.

asv's pages load jQuery, flot and Bootstrap from public CDNs. On a machine that cannot
reach them, ``--libraries DIR`` (or ``MYTENSOR_DASHBOARD_LIBS``) names local copies,
matched by library name whatever their version suffix (asv 0.5's ``asv/www/vendor``
has them all); the page is then served with those scripts in place of the CDN ones,
without their integrity hashes (the builds differ byte-wise). The published files
are never changed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

LIBRARIES_ENV = "MYTENSOR_DASHBOARD_LIBS"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--window-size=1280,900", "--remote-debugging-pipe",
]  # fmt: skip

# the largest number of painted (non-transparent) pixels among the graph's canvases
PAINTED_PIXELS = """(() => {
  const canvases = [...document.querySelectorAll("#main-graph canvas, canvas")];
  let painted = 0;
  for (const canvas of canvases) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
    painted = Math.max(painted, n);
  }
  return {canvases: canvases.length, painted: painted, title: document.title};
})()"""


# exec argv[3:] with the pipe ends argv[1] and argv[2] as its fds 3 and 4
_ON_FDS_3_AND_4 = """
import fcntl, os, sys
ends = [fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3]]
for target, end in zip((3, 4), ends):
    os.dup2(end, target)
os.execv(sys.argv[3], sys.argv[3:])
"""


def find_chromium() -> str | None:
    """Debian's `chromium`, or another Chromium-family browser on PATH."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """A minimal DevTools-protocol client over Chromium's pipe (JSON messages, NUL-ended)."""

    def __init__(self, chromium: str, profile: str) -> None:
        to_browser, self._write_fd = os.pipe()
        self._read_fd, from_browser = os.pipe()
        # the browser reads commands on fd 3 and writes replies and events on fd 4
        command = [sys.executable, "-c", _ON_FDS_3_AND_4, str(to_browser), str(from_browser),
                   chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]  # fmt: skip
        self.log = Path(profile) / "chromium.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                pass_fds=(to_browser, from_browser),
                stdout=log,
                stderr=log,
            )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read_fd, 1 << 16)
            if not chunk:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
                raise RuntimeError("chromium closed the DevTools pipe: " + "\n".join(tail))
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command; return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> bool:
        """Wait until an event called `method` has arrived (True) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                return False
            self.call("Runtime.evaluate", self.session, expression="1")
            time.sleep(0.1)
        return True

    def open_page(self) -> None:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", self.session)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._write_fd)
        os.close(self._read_fd)


def javascript_errors(events: list[dict[str, Any]]) -> list[str]:
    """Uncaught exceptions, console.error calls and JavaScript log errors among `events`."""
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            errors.append(f"uncaught: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            errors.append(f"console.error: {args}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            if entry.get("level") == "error" and entry.get("source") == "javascript":
                errors.append(f"log: {entry.get('text')}")
    return errors


def network_errors(events: list[dict[str, Any]]) -> list[str]:
    """Resources that failed to load (reported; a missing favicon is not a failure)."""
    found = []
    for event in events:
        entry = event.get("params", {}).get("entry", {})
        if event.get("method") != "Log.entryAdded" or entry.get("source") != "network":
            continue
        if "favicon" not in str(entry.get("url", "")):
            found.append(f"{entry.get('text')} {entry.get('url', '')}")
    return found


def _library_key(name: str) -> str:
    """``.../flot/0.8.3/jquery.flot.time.min.js`` and ``jquery.flot-0.8.3.time.min.js``
    are both ``jquery.flot.time.js``."""
    base = name.rsplit("/", 1)[-1].lower()
    return re.sub(r"-\d+(\.\d+)*", "", base).replace(".min.", ".")


def localize(html: str, libraries: dict[str, str]) -> str:
    """`html` with each CDN script or stylesheet that has a local copy pointing at
    ``/_libs/<file>`` instead (its integrity and crossorigin attributes dropped)."""

    def replace(match: re.Match[str]) -> str:
        tag = match.group(0)
        url = re.search(r'(?:src|href)="(https?://[^"]+)"', tag)
        local = libraries.get(_library_key(url.group(1))) if url else None
        if local is None:
            return tag
        tag = tag.replace(url.group(1), f"/_libs/{local}")
        return re.sub(r'\s(?:integrity|crossorigin)="[^"]*"', "", tag)

    return re.sub(r"<(?:script|link)\b[^>]*>", replace, html)


def _serve(directory: Path, libraries: Path | None) -> tuple[http.server.ThreadingHTTPServer, str]:
    local = {_library_key(p.name): p.name for p in libraries.iterdir()} if libraries else {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            if local and path in ("/", "/index.html"):
                html = localize((directory / "index.html").read_text(), local)
                self._send(html.encode(), "text/html; charset=utf-8")
            elif local and path.startswith("/_libs/") and path[7:] in local.values():
                kind = "text/css" if path.endswith(".css") else "text/javascript"
                self._send((libraries / path[7:]).read_bytes(), kind)
            else:
                super().do_GET()

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def pick_benchmark(html_dir: Path) -> str:
    """The first timing benchmark that asv published results for."""
    names = sorted(json.loads((html_dir / "index.json").read_text())["benchmarks"])
    timed = [n for n in names if ".time_" in n]
    if not (timed or names):
        raise SystemExit(f"{html_dir}/index.json lists no benchmark: run asv run first")
    return (timed or names)[0]


def check(html_dir: Path, benchmark: str | None, screenshot: Path, chromium: str,
          libraries: Path | None = None, timeout: float = 30.0) -> dict[str, Any]:  # fmt: skip
    """Open the summary page and one graph page; return what was seen (see `main`)."""
    benchmark = benchmark or pick_benchmark(html_dir)
    server, base = _serve(html_dir, libraries)
    seen: dict[str, Any] = {"benchmark": benchmark, "pages": {}, "libraries": str(libraries)}
    with tempfile.TemporaryDirectory(prefix="asv-dashboard-") as profile:
        browser = DevTools(chromium, profile)
        try:
            browser.open_page()
            for label, url in (("summary", base + "index.html"),
                               ("graph", f"{base}index.html#{benchmark}")):  # fmt: skip
                # a fresh document each time: a change of #fragment alone loads nothing
                browser.call("Page.navigate", browser.session, url="about:blank")
                browser.wait_for("Page.loadEventFired", timeout)
                browser.events.clear()
                browser.call("Page.navigate", browser.session, url=url)
                loaded = browser.wait_for("Page.loadEventFired", timeout)
                state: dict[str, Any] = {}
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:  # asv fetches JSON, then flot draws
                    state = browser.call("Runtime.evaluate", browser.session,
                                         expression=PAINTED_PIXELS, returnByValue=True,
                                         )["result"]["value"]  # fmt: skip
                    if label == "summary" or state["painted"] > 500:
                        break
                    time.sleep(0.25)
                time.sleep(0.5)  # let late errors surface
                browser.call("Runtime.evaluate", browser.session, expression="1")
                seen["pages"][label] = {
                    "url": url, "loaded": loaded, **state,
                    "javascript_errors": javascript_errors(browser.events),
                    "network_errors": network_errors(browser.events),
                }  # fmt: skip
            shot = browser.call("Page.captureScreenshot", browser.session, format="png")
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            seen["screenshot"] = str(screenshot)
        finally:
            browser.close()
            server.shutdown()
    return seen


def problems(seen: dict[str, Any]) -> list[str]:
    """Why the dashboard check fails (empty: it passed)."""
    found = []
    for label, page in seen["pages"].items():
        if not page["loaded"]:
            found.append(f"{label}: the page never finished loading")
        found += [f"{label}: {error}" for error in page["javascript_errors"]]
        # a script or stylesheet that failed breaks the page; a 404 on a graph's JSON
        # only means that benchmark has no results yet (a partial `asv run`)
        broken = [e for e in page["network_errors"] if re.search(r"\.(js|css)(\?|$)", e)]
        found += [f"{label}: {error}" for error in broken]
        if "error" in page.get("title", "").lower():
            found.append(f"{label}: asv shows its error page ({page['title']!r})")
    graph = seen["pages"].get("graph", {})
    if graph.get("painted", 0) <= 500:
        found.append(f"graph of {seen['benchmark']}: no canvas was drawn on ({graph})")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", nargs="?", default=".asv/html", type=Path)
    parser.add_argument("--benchmark", help="default: the first time_ benchmark published")
    parser.add_argument("--screenshot", type=Path, help="default: dashboard.png beside HTML_DIR")
    parser.add_argument("--chromium", default=None, help="default: chromium on PATH")
    parser.add_argument(
        "--libraries",
        type=Path,
        default=os.environ.get(LIBRARIES_ENV),
        help=f"local copies of the CDN scripts (default: ${LIBRARIES_ENV})",
    )
    args = parser.parse_args(argv)
    chromium = args.chromium or find_chromium()
    if chromium is None:
        print("no Chromium found: apt-get install chromium", file=sys.stderr)
        return 2
    if not (args.html_dir / "index.json").is_file():
        print(f"{args.html_dir}: no asv site here; run asv publish", file=sys.stderr)
        return 2
    screenshot = args.screenshot or args.html_dir.resolve().parent / "dashboard.png"
    seen = check(args.html_dir, args.benchmark, screenshot, chromium, args.libraries)
    print(json.dumps(seen, indent=2))
    failures = problems(seen)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    if not failures:
        print(f"dashboard OK: {seen['benchmark']} drawn, no JavaScript errors", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
