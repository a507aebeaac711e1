"""Headless Chromium serving the built book: an HTTP server for the build, a trap proxy for
everything else, and a DevTools client (``websocket-client``). Used by the JupyterLite tests
(tests/test_browser_lite.py) and the console check (tests/test_console.py)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import websocket

# Added to the headless flags (conftest.py).
LITE_FLAGS = [
    # Chromium's own calls home (time, updates, sign-in, autofill, hints), which would reach
    # the trap proxy and hide what the page asks for
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-features=OptimizationHints,AutofillServerCommunication,MediaRouter,Translate,"
    "NetworkTimeServiceQuerying,CertificateTransparencyComponentUpdater",
    "--metrics-recording-only",
    "--no-pings",
    "--password-store=basic",
    "--use-mock-keychain",
    "--window-size=1280,1000",
    # Host names do not resolve; requests for anything but 127.0.0.1 (which Chromium never
    # proxies) go to the trap proxy.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


# --------------------------------------------------------------------------- servers


class BookHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built book and records each path asked for. ``exposeAppInBrowser`` is added
    to JupyterLite's settings, so that the test can use the app's commands
    (``window.jupyterapp``); nothing else differs from what a reader is served."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript"}
    requests: list[str] = []  # replaced per server by serve()

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.requests.append(self.path)
        if self.path.split("?")[0] == "/lite/jupyter-lite.json":
            config = json.loads((Path(self.directory) / "lite/jupyter-lite.json").read_bytes())
            config["jupyter-config-data"]["exposeAppInBrowser"] = "true"
            body = json.dumps(config).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(html: Path, requests: list[str]):
    """The book on http://127.0.0.1:PORT, in a thread; yields the URL."""
    handler = type("Handler", (BookHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class TrapProxy:
    """A proxy that records the first line of every request made to it and refuses it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
                    self.requests.append(line)
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------- DevTools


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, chromium: list[str], profile: Path, proxy_port: int):
        self.proc = subprocess.Popen(
            [*chromium, *LITE_FLAGS, f"--proxy-server=http://127.0.0.1:{proxy_port}",
             f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Chromium did not start: "
                                   + self.proc.stderr.read().decode()[-2000:])
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as resp:
            page = next(t for t in json.load(resp) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120,
                                              suppress_origin=True)
        self.last_id = 0
        self.console: list[str] = []  # everything the page logs, and its exceptions
        self.errors: list[str] = []  # console errors, exceptions, failed loads
        self.call("Runtime.enable")
        self.call("Page.enable")
        self.call("Log.enable")  # the browser's own entries: a resource that failed to load

    def call(self, method: str, **params) -> dict:
        self.last_id += 1
        self.ws.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._event(message)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", "")))
                            for a in params["args"])
            self.console.append(text)
            if params["type"] in ("error", "assert"):
                self.errors.append(f"console.{params['type']}: {text[:500]}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.console.append(str(details)[:500])
            self.errors.append(f"exception: {text[:500]} at {details.get('url', '')}:"
                               f"{details.get('lineNumber', '')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.errors.append(f"{entry['source']}: {entry['text'][:300]} {entry.get('url', '')}")

    def settle(self, seconds: float) -> None:
        """Take in what the page reports for ``seconds`` (events arrive between calls)."""
        deadline = time.monotonic() + seconds
        self.ws.settimeout(0.2)
        try:
            while time.monotonic() < deadline:
                try:
                    self._event(json.loads(self.ws.recv()))
                except websocket.WebSocketTimeoutException:
                    pass
        finally:
            self.ws.settimeout(120)

    def js(self, expression: str):
        """Evaluate ``expression`` in the page (awaiting a promise); return its JSON value."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:200]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, what: str):
        """Poll ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        error = None
        while time.monotonic() < deadline:
            try:
                value = self.js(expression)
            except RuntimeError as exc:  # e.g. evaluated while a page is being replaced
                error, value = exc, None
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"gave up after {timeout} s waiting for {what} (last error: "
                             f"{error}); browser console:\n" + "\n".join(self.console[-30:]))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
