#!/usr/bin/env python3
"""An echo service and its client over libp2p, through the libp2pd HTTP API.

Plain Python 3, standard library only: no libp2p port needed. One daemon serves the
protocol (this program registers a handler with a callback server it runs itself); another
daemon opens a stream to it. Every stream is a unix socket of its own: connect, send, shut
down writing, read the answer until EOF.

    python3 libp2pd_echo.py --server-api /tmp/a/http.sock --client-api /tmp/b/http.sock
    python3 libp2pd_echo.py ... --callback unix      # callback server on a unix socket

Exits 0 when the echo came back intact.
"""
import argparse
import http.client
import http.server
import json
import os
import socket
import sys
import tempfile
import threading
import urllib.parse

PROTOCOL = "/py-echo/1.0.0"


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (the daemon's API socket)."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class Daemon:
    """A tiny client of the libp2pd HTTP API."""

    def __init__(self, api_socket):
        self.api_socket = api_socket

    def call(self, method, path, body=None):
        conn = UnixHTTPConnection(self.api_socket)
        try:
            headers = {}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=payload, headers=headers)
            res = conn.getresponse()
            data = res.read()
            value = json.loads(data) if data else None
            if res.status >= 400:
                raise RuntimeError(f"{method} {path}: {res.status} {value}")
            return value
        finally:
            conn.close()


def echo_stream(stream):
    """Serves one incoming stream: echo every byte, then close our side."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(stream["socketPath"])
        while True:
            data = s.recv(65536)
            if not data:
                break
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)


class CallbackHandler(http.server.BaseHTTPRequestHandler):
    """The client route of the spec: POST /api/client/peers/<id>/streams with a Stream."""

    def do_POST(self):
        parts = self.path.split("/")
        if len(parts) != 6 or parts[1:4] != ["api", "client", "peers"] or parts[5] != "streams":
            self.send_response(404)
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length", "0"))
        stream = json.loads(self.rfile.read(length))
        # answer first, then connect: the daemon resets the stream on a non-2xx answer
        self.send_response(204)
        self.end_headers()
        threading.Thread(target=echo_stream, args=(stream,), daemon=True).start()

    def log_message(self, fmt, *args):
        pass


class UnixHTTPServer(http.server.ThreadingHTTPServer):
    """http.server on a unix socket."""

    address_family = socket.AF_UNIX

    def server_bind(self):
        self.socket.bind(self.server_address)
        self.server_name, self.server_port = "localhost", 0


def start_callback_server(kind):
    """Starts the callback server; returns (server, callback base for the daemon)."""
    if kind == "unix":
        path = os.path.join(tempfile.mkdtemp(prefix="pycb-"), "cb.sock")
        server = UnixHTTPServer(path, CallbackHandler)
        callback = f"unix:{path}"
    else:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CallbackHandler)
        callback = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, callback


def open_and_echo(client, server_identity, message):
    """Opens a stream from the client daemon and returns what came back."""
    client.call("POST", "/api/daemon/peers", {"peerID": server_identity["peerID"], "addresses": server_identity["addresses"]})
    peer = urllib.parse.quote(server_identity["peerID"], safe="")
    stream = client.call("POST", f"/api/daemon/peers/{peer}/streams", {"protocol": PROTOCOL})
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(stream["socketPath"])
        s.sendall(message)
        s.shutdown(socket.SHUT_WR)  # half-close: the remote reads EOF, we can still read
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return stream, b"".join(chunks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server-api", required=True, help="HTTP API socket of the daemon that serves the protocol")
    ap.add_argument("--client-api", required=True, help="HTTP API socket of the daemon that opens the stream")
    ap.add_argument("--callback", choices=["tcp", "unix"], default="tcp")
    ap.add_argument("--size", type=int, default=1 << 20, help="bytes to echo (default 1 MiB)")
    args = ap.parse_args()

    server, client = Daemon(args.server_api), Daemon(args.client_api)
    cb_server, callback = start_callback_server(args.callback)
    try:
        server.call("POST", "/api/daemon/handlers", {"protocols": [PROTOCOL], "callback": callback})
        identity = server.call("GET", "/api/daemon/identity")
        message = os.urandom(args.size)
        stream, answer = open_and_echo(client, identity, message)
        print(f"stream {stream['id']} {stream['direction']} to {stream['remoteID']} on {stream['protocol']}")
        if answer != message:
            print(f"echo MISMATCH: sent {len(message)} bytes, got {len(answer)}")
            return 1
        print(f"echo ok: {len(answer)} bytes via {args.callback} callback")
        server.call("DELETE", "/api/daemon/handlers/" + urllib.parse.quote(PROTOCOL, safe=""))
        return 0
    finally:
        cb_server.shutdown()
        cb_server.server_close()
        if callback.startswith("unix:"):
            os.unlink(callback[5:])
            os.rmdir(os.path.dirname(callback[5:]))


if __name__ == "__main__":
    sys.exit(main())
