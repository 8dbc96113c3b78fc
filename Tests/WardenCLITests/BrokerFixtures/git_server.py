#!/usr/bin/env python3
"""Git smart-HTTP server over TLS for the broker end-to-end tests: `git http-backend` (CGI)
behind Python's standard library, on a random loopback port.

Usage: git_server.py --cert C --key K --root GIT_PROJECT_ROOT --log LOG --auth USER:PASSWORD

Every request needs `Authorization: Basic base64(USER:PASSWORD)` (else 401, and the CGI is
not run). Each request is appended to LOG as a JSON line: method, target, whether the
credentials matched, body length and SHA-256 (a refused push must leave no receive-pack POST
here). Prints `port=P` then `ready`; runs until stdin closes.
"""
import argparse
import base64
import hashlib
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BACKEND = "/usr/lib/git-core/git-http-backend"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, context, args):
        self.context = context
        self.args = args
        self.log_lock = threading.Lock()
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        pass  # a client that fails the handshake (an untrusting broker) is expected here

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def record(self, entry):
        with self.log_lock:
            with open(self.args.log, "a") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 30

    def log_message(self, *args):
        pass

    def body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def handle_any(self):
        data = self.body()
        expected = "Basic " + base64.b64encode(self.server.args.auth.encode()).decode()
        auth_ok = self.headers.get("Authorization") == expected
        path, _, query = self.path.partition("?")
        self.server.record({
            "time": time.time(), "method": self.command, "target": self.path, "auth_ok": auth_ok,
            "authorization_count": len(self.headers.get_all("Authorization") or []),
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": len(data), "body_sha256": hashlib.sha256(data).hexdigest(),
        })
        if not auth_ok:
            body = b"credentials required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="e2e"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.server.args.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(data)),
            "REMOTE_USER": "e2e",
            "REMOTE_ADDR": "127.0.0.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        for name in ("Content-Encoding", "Git-Protocol"):
            if self.headers.get(name):
                env["HTTP_" + name.upper().replace("-", "_")] = self.headers[name]
        result = subprocess.run([BACKEND], input=data, env=env, capture_output=True)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = result.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = handle_any


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--auth", required=True)
    p.add_argument("--host", default="127.0.0.1")
    a = p.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(a.cert, a.key)
    open(a.log, "a").close()
    server = Server((a.host, 0), context, a)
    print("port=%d" % server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
