"""Drive headless Chromium over the DevTools protocol on a pipe, with the standard library only.

`--remote-debugging-pipe` makes Chromium read commands on fd 3 and write replies and events on
fd 4, as NUL-terminated JSON. This is what browser drivers do underneath; doing it directly keeps
a 165 MB driver package out of the environment Binder builds.

    with Chromium("/usr/bin/chromium") as browser:
        tab = browser.new_tab(allow=lambda url: url.startswith("http://127.0.0.1"))
        tab.goto("http://127.0.0.1:8000/index.html")
        tab.js("document.title")            # evaluate JavaScript, await promises, return the value
        tab.blocked, tab.errors              # requests refused, console errors and exceptions
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from urllib.parse import urlparse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")  # Debian's, or None


def local(url: str) -> bool:
    """True for a URL that stays on this machine (127.0.0.1, data:, blob:, about:)."""
    return url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname == "127.0.0.1"


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio"]


class Chromium:
    """One browser process and its protocol connection."""

    def __init__(self, executable: str, timeout: float = 30.0):
        self.timeout = timeout
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def fds_3_and_4() -> None:  # in the child: the protocol's fixed descriptors
            # Copy both ends above 10 first, so that neither dup2 lands on the other (or on itself,
            # which would keep the close-on-exec flag), then place inheritable copies at 3 and 4.
            high_r, high_w = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen([executable, *FLAGS, "--remote-debugging-pipe", "about:blank"],
                                     preexec_fn=fds_3_and_4, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id, self._lock, self._replies = 0, threading.Lock(), {}
        self._arrived = threading.Condition()
        self._listeners: dict[str | None, Callable[[dict], None]] = {}
        threading.Thread(target=self._read, daemon=True).start()

    # ------------------------------------------------------------ the wire
    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_chrome, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._arrived:
                        self._replies[message["id"]] = message
                        self._arrived.notify_all()
                elif listener := self._listeners.get(message.get("sessionId")):
                    listener(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, *, wait: bool = True) -> dict:
        """Send one command; with wait, return its result (or raise with the protocol's error)."""
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
            message = {"id": message_id, "method": method, "params": params or {}}
            if session:
                message["sessionId"] = session
            os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        if not wait:
            return {}
        with self._arrived:
            if not self._arrived.wait_for(lambda: message_id in self._replies, timeout=self.timeout):
                raise TimeoutError(f"Chromium did not answer {method} within {self.timeout} s")
            reply = self._replies.pop(message_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    # ------------------------------------------------------------ tabs
    def new_tab(self, allow: Callable[[str], bool], width: int = 1280, height: int = 900) -> Tab:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Tab(self, session, target, allow, width, height)

    def close(self) -> None:
        try:
            self.send("Browser.close", wait=False)
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        os.close(self._to_chrome)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Tab:
    """A page whose requests are filtered by `allow`; refused ones land in `blocked`."""

    def __init__(self, browser: Chromium, session: str, target: str, allow: Callable[[str], bool],
                 width: int, height: int):
        self.browser, self.session, self.target, self.allow = browser, session, target, allow
        self.blocked: list[str] = []
        self.errors: list[str] = []
        browser._listeners[session] = self._on_event
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def send(self, method: str, params: dict | None = None, *, wait: bool = True) -> dict:
        return self.browser.send(method, params, self.session, wait=wait)

    def _on_event(self, message: dict) -> None:
        method, params = message["method"], message.get("params", {})
        if method == "Fetch.requestPaused":  # every request stops here until we let it through
            url = params["request"]["url"]
            if self.allow(url):
                self.send("Fetch.continueRequest", {"requestId": params["requestId"]}, wait=False)
            else:
                self.blocked.append(url)
                self.send("Fetch.failRequest", {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
                          wait=False)
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.errors.append(f"{entry.get('text')} {entry.get('url', '')}".strip())

    def goto(self, url: str, landing: str | None = None) -> None:
        """Open `url` and wait until the document at `landing` (default: url) has finished loading."""
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise RuntimeError(f"could not open {url}: {result['errorText']}")
        deadline = time.monotonic() + self.browser.timeout
        while time.monotonic() < deadline:
            try:  # evaluating fails while the old document is being replaced: try again
                if self.js("document.readyState === 'complete' && location.href") == (landing or url):
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{url} did not finish loading")

    def js(self, expression: str) -> object:
        """Evaluate JavaScript in the page (awaiting a promise) and return its JSON value."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True, "userGesture": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(f"{expression[:80]}...: {details.get('exception', {}).get('description', details)}")
        return result["result"].get("value")

    def screenshot(self, selector_js: str) -> bytes:
        """PNG of the element that `selector_js` (an expression) evaluates to, as it is painted."""
        box = self.js(f"(() => {{ const el = {selector_js}; el.scrollIntoView({{block: 'center'}});"
                      "const r = el.getBoundingClientRect();"
                      "return {x: r.x, y: r.y, width: r.width, height: r.height}; })()")
        view = self.send("Page.getLayoutMetrics")["cssVisualViewport"]  # the clip is in page coordinates
        clip = {**box, "x": box["x"] + view["pageX"], "y": box["y"] + view["pageY"], "scale": 1}
        data = self.send("Page.captureScreenshot", {"format": "png", "clip": clip})
        return base64.b64decode(data["data"])

    def close(self) -> None:
        self.browser._listeners.pop(self.session, None)
        self.browser.send("Target.closeTarget", {"targetId": self.target})
