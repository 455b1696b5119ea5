"""A throwaway single-node Elasticsearch for the tests, built from Maven Central jars (see ``es_node/``).

``TestNode`` compiles the launcher with Maven (once; Maven caches the jars in ``~/.m2``), starts it on
127.0.0.1 with its data in a temporary directory, waits until the cluster answers, and stops it again. The
node also stops by itself when its standard input closes, so it cannot outlive the process that started it.

``python tests/es_test_node.py`` runs one in the foreground until Ctrl-C (``make es-node``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

PROJECT = Path(__file__).resolve().parent / "es_node"
CLASSPATH_FILE = PROJECT / "target" / "classpath.txt"
MAIN_CLASS = "org.elasticsearch.node.TestNode"
HTTP_PORT = int(os.environ.get("ES_TEST_HTTP_PORT", "9250"))
TRANSPORT_PORT = int(os.environ.get("ES_TEST_TRANSPORT_PORT", "9350"))
BUILD_TIMEOUT = 900.0  # a first build downloads ≈ 70 MB of jars
START_TIMEOUT = 180.0  # seconds from launch to a green cluster; a few seconds on an idle machine
STOP_TIMEOUT = 60.0


class NodeError(RuntimeError):
    """The test node could not be built or started; the message says why."""


def missing_tools() -> str | None:
    """Why no test node can be built here, or None when Java and Maven are both on PATH."""
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not on PATH: cannot build the Elasticsearch test node"
    return None


def _sources() -> list[Path]:
    return [PROJECT / "pom.xml", *sorted((PROJECT / "src").rglob("*.java"))]


def build() -> list[str]:
    """Compile the launcher when its sources changed; returns the ``java -cp`` entries."""
    classes = PROJECT / "target" / "classes"
    fresh = CLASSPATH_FILE.exists() and all(
        p.stat().st_mtime <= CLASSPATH_FILE.stat().st_mtime for p in _sources()
    )
    if not fresh:
        result = subprocess.run(
            ["mvn", "-q", "-B", "-f", str(PROJECT / "pom.xml"), "compile"],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
        if result.returncode != 0 or not CLASSPATH_FILE.exists():
            raise NodeError(f"building the test node failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return [str(classes), *CLASSPATH_FILE.read_text().strip().split(os.pathsep)]


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class TestNode:
    """``with TestNode() as node: ... node.url ...``; everything it made is gone after the block."""

    __test__ = False  # not a pytest test class

    def __init__(
        self, http_port: int = HTTP_PORT, transport_port: int = TRANSPORT_PORT, heap: str = "512m"
    ) -> None:
        self.http_port = http_port
        self.transport_port = transport_port
        self.heap = heap
        self.url = f"http://127.0.0.1:{http_port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in: float | None = None  # seconds from launch to a green cluster
        self._dir: Path | None = None

    @property
    def log_path(self) -> Path | None:
        return self._dir / "node.log" if self._dir else None

    def start(self) -> TestNode:
        classpath = build()
        for port in (self.http_port, self.transport_port):
            if _port_taken(port):
                raise NodeError(f"port {port} on 127.0.0.1 is already in use: stop whatever listens there")
        self._dir = Path(tempfile.mkdtemp(prefix="fazhi-es-node-"))
        launched = time.monotonic()
        with open(self._dir / "node.log", "wb") as log:
            self.process = subprocess.Popen(
                [
                    "java",
                    f"-Xms{self.heap}",
                    f"-Xmx{self.heap}",
                    "-XX:+UseSerialGC",  # a small heap on a shared machine: no parallel GC threads
                    "-Djava.io.tmpdir=" + str(self._dir),
                    "-cp",
                    os.pathsep.join(classpath),
                    MAIN_CLASS,
                    str(self.http_port),
                    str(self.transport_port),
                    str(self._dir / "node"),
                ],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop the node in order
            )
        try:
            self._wait_until_green(launched + START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - launched
        return self

    def _log_tail(self) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return ""
        return path.read_text(errors="replace")[-3000:]

    def _wait_until_green(self, deadline: float) -> None:
        """Poll the health endpoint until the cluster is green, the node dies, or the deadline passes."""
        url = f"{self.url}/_cluster/health?wait_for_status=green&timeout=2s"
        assert self.process is not None
        while True:
            if self.process.poll() is not None:
                raise NodeError(
                    f"the test node exited with code {self.process.returncode}:\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if json.load(response).get("status") == "green":
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet, or not green within the request's own wait
            if time.monotonic() > deadline:
                raise NodeError(
                    f"the test node was not ready after {START_TIMEOUT:.0f} s:\n{self._log_tail()}"
                )
            time.sleep(0.25)

    def rss_bytes(self) -> int | None:
        """Resident memory of the node's JVM (Linux only)."""
        if self.process is None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None

    def stop(self) -> None:
        """Ask the node to stop (close its stdin), wait for it, kill it if it hangs; remove its files."""
        process, self.process = self.process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> TestNode:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def main() -> int:
    reason = missing_tools()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    node = TestNode()
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    with node:
        rss = node.rss_bytes()
        print(
            f"Elasticsearch test node on {node.url}: green after {node.started_in:.1f} s, "
            f"RSS {rss / 2**20:.0f} MiB; Ctrl-C stops it"
            if rss
            else f"Elasticsearch test node on {node.url}; Ctrl-C stops it",
            flush=True,
        )
        try:
            while not stopping and node.process is not None and node.process.poll() is None:
                time.sleep(0.5)  # waiting for Ctrl-C or SIGTERM, not for a result
        except KeyboardInterrupt:
            pass
    print("test node stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
