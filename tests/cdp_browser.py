"""Drive headless Chromium over the Chrome DevTools protocol, through a pipe (no extra package).

``chromium --remote-debugging-pipe`` reads protocol commands from file descriptor 3 and writes
responses and events to file descriptor 4, each message a JSON object ending with a NUL byte.
:class:`Chromium` starts the browser with those two pipes, opens a page, emulates a device
viewport, loads a document and collects what a reader's browser would report: console messages,
uncaught exceptions, failed resource loads (``Log.entryAdded``) and the result of a JavaScript
expression evaluated in the page.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of a Chromium-family browser on PATH, or ``None``."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    """The browser did not answer, or answered a command with an error."""


@dataclass
class PageReport:
    """What the browser reported while loading one document.

    Attributes
    ----------
    console : console messages of level error/warning, as ``"level: text"``.
    exceptions : uncaught JavaScript exceptions.
    log : browser log entries of level error/warning (failed loads, blocked resources, ...).
    value : the value of the probe expression evaluated after the load event.
    """

    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    value: Any = None

    @property
    def errors(self) -> list[str]:
        """Every console error, exception and log error/warning (empty = a clean load)."""
        return self.console + self.exceptions + self.log


class Chromium:
    """A headless Chromium process driven through ``--remote-debugging-pipe``.

    Use as a context manager; :meth:`load` opens one document in a fresh page.
    """

    def __init__(self, executable: str, *, timeout: float = 60.0):
        self.executable = executable
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._to_browser = -1
        self._from_browser = -1
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        self._tmp = tempfile.TemporaryDirectory(prefix="star-chromium-")
        cmd_r, cmd_w = os.pipe()  # we write commands, the browser reads fd 3
        res_r, res_w = os.pipe()  # the browser writes fd 4, we read

        def child_fds() -> None:  # runs in the child between fork and exec
            a = os.dup(cmd_r)  # copies first, so that placing one cannot clobber the other
            b = os.dup(res_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [
            self.executable,
            "--headless",
            "--remote-debugging-pipe",
            "--no-sandbox",  # root in containers/CI; the documents are our own files
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            f"--user-data-dir={self._tmp.name}",
            "about:blank",
        ]
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_fds,  # places the pipes at fds 3/4
            close_fds=False,
        )
        os.close(cmd_r)
        os.close(res_w)
        self._to_browser, self._from_browser = cmd_w, res_r
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._proc is not None and self._proc.poll() is None:
                try:
                    self._send("Browser.close", wait=False)
                    self._proc.wait(timeout=10)
                except (OSError, BrowserError, subprocess.TimeoutExpired):
                    self._proc.kill()
                    self._proc.wait(timeout=10)
        finally:
            for fd in (self._to_browser, self._from_browser):
                if fd >= 0:
                    os.close(fd)
            self._to_browser = self._from_browser = -1
            if self._tmp is not None:
                self._tmp.cleanup()
            self._proc = self._tmp = None

    # ------------------------------------------------------------------ protocol

    def _read_message(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("no answer from the browser in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError("the browser closed the protocol pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def _send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        if not wait:
            return {}
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def _wait_event(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        for i, ev in enumerate(self._events):
            if ev.get("method") == method and ev.get("sessionId") == session:
                return self._events.pop(i)
        while True:
            ev = self._read_message(deadline)
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
            if "method" in ev:
                self._events.append(ev)

    # ------------------------------------------------------------------ pages

    def load(
        self,
        path: Path,
        probe: str,
        *,
        width: int = 375,
        height: int = 812,
        mobile: bool = True,
        settle: float = 0.5,
        screenshot: Path | None = None,
    ) -> PageReport:
        """Open ``path`` in a new page of ``width`` x ``height`` CSS pixels; evaluate ``probe``.

        ``probe`` is a JavaScript expression whose value must be JSON-serialisable; it is
        evaluated after the load event and ``settle`` seconds more (late console messages).
        ``screenshot``: also write a PNG of the whole page there (for a human look).
        """
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        try:
            for domain in ("Page", "Runtime", "Log"):
                self._send(f"{domain}.enable", session=session)
            self._send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": mobile},
                session=session,
            )
            self._send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
            self._wait_event("Page.loadEventFired", session)
            time.sleep(settle)
            result = self._send(
                "Runtime.evaluate",
                {"expression": probe, "returnByValue": True, "awaitPromise": True},
                session=session,
            )
            if "exceptionDetails" in result:
                raise BrowserError(f"probe failed: {result['exceptionDetails']}")
            report = PageReport(value=result.get("result", {}).get("value"))
            if screenshot is not None:
                shot = self._send(
                    "Page.captureScreenshot",
                    {"format": "png", "captureBeyondViewport": True},
                    session=session,
                )
                Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
            self._collect(report, session)
            return report
        finally:
            self._send("Target.closeTarget", {"targetId": target})

    def _collect(self, report: PageReport, session: str) -> None:
        events, self._events = self._events, []
        for ev in events:
            if ev.get("sessionId") != session:
                continue
            p = ev.get("params", {})
            method = ev.get("method")
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
                report.console.append(f"{p['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                details = p.get("exceptionDetails", {})
                desc = details.get("exception", {}).get("description") or details.get("text")
                report.exceptions.append(str(desc))
            elif method == "Log.entryAdded":
                entry = p.get("entry", {})
                if entry.get("level") in ("error", "warning"):
                    report.log.append(f"{entry.get('level')}: {entry.get('text')}")


# What a phone-width reader's browser is asked after the load (values in CSS pixels).
LAYOUT_PROBE = r"""
(() => {
  const view = document.documentElement.clientWidth;
  const where = (e) => {
    const id = e.id ? '#' + e.id : '';
    const cls = e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '';
    return e.tagName.toLowerCase() + id + cls;
  };
  const images = [...document.images].map((img) => ({
    src: img.getAttribute('src').slice(0, 60),
    loaded: img.complete && img.naturalWidth > 0,
    right: img.getBoundingClientRect().right,
  }));
  const outside = [...document.body.querySelectorAll('*')]
    .filter((e) => !e.closest('div.table-scroll'))
    .filter((e) => e.getBoundingClientRect().right > view + 1)
    .map(where);
  const scrollers = [...document.querySelectorAll('div.table-scroll')].map((d) => ({
    right: d.getBoundingClientRect().right,
    scrolls: d.scrollWidth > d.clientWidth,
  }));
  const tables = [...document.querySelectorAll('table')];
  return {
    view,
    page_width: document.documentElement.scrollWidth,
    images,
    outside: outside.slice(0, 20),
    n_outside: outside.length,
    n_tables: tables.length,
    unwrapped_tables: tables.filter((t) => !t.closest('div.table-scroll')).length,
    scrollers,
  };
})()
"""


def layout_problems(report: PageReport) -> list[str]:
    """Problems a phone reader would meet, from a :data:`LAYOUT_PROBE` report (empty = none).

    Every image loaded; no console error, exception or failed load; the page no wider than the
    viewport; every table inside a ``div.table-scroll`` box that itself fits the viewport.
    """
    v = report.value
    problems = [f"browser: {e}" for e in report.errors]
    problems += [f"image not loaded: {i['src']}" for i in v["images"] if not i["loaded"]]
    if v["page_width"] > v["view"]:
        problems.append(
            f"page {v['page_width']} px wide in a {v['view']} px viewport "
            f"(too wide: {', '.join(v['outside'][:8])})"
        )
    elif v["n_outside"]:
        problems.append(f"elements beyond the viewport: {', '.join(v['outside'][:8])}")
    if v["unwrapped_tables"]:
        problems.append(f"{v['unwrapped_tables']} table(s) not inside a div.table-scroll")
    problems += [
        f"table box ends at {s['right']:.0f} px > {v['view']} px"
        for s in v["scrollers"]
        if s["right"] > v["view"] + 1
    ]
    return problems
