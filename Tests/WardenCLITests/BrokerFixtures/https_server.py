#!/usr/bin/env python3
"""Loopback HTTPS upstream for the broker end-to-end tests (Python standard library only).

Usage: https_server.py --cert C --key K --log LOG [--host 127.0.0.1] [--ports N] [--token T] [--plain]

Listens on N random ports of HOST (the tests broker the first and reach the others directly)
and prints `port=P` per port, then `ready`, on stdout (`--plain`: HTTP without TLS). Every request is appended to LOG as one
JSON line: port, SNI, method, raw target, headers (in order), body length and SHA-256. The log
is the host's view; it is never given to the agent.

Routes (any method unless noted):
  /echo/..., /ph/... JSON: method, path, body_len, body_sha256, and `auth`: how the
                     Authorization/X-Api-Key/X-Token headers compare with --token ("token",
                     "placeholder", "other", "none") -- never the header values themselves.
  /sse               text/event-stream, 10 events 100 ms apart, chunked.
  /download/N        N MiB of a fixed pattern with Content-Length (N <= 1024).
  /upload            reads the whole body (Content-Length or chunked); JSON length + SHA-256.
  anything else      404.
"""
import argparse
import hashlib
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATTERN = bytes(range(256)) * 4096  # 1 MiB


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address, context, log, token):  # context None: plain HTTP
        self.context = context
        self.log_file = log
        self.log_lock = threading.Lock()
        self.token = token
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        pass  # a client that fails the handshake (an untrusting broker) is expected here

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.context is None:
            return sock, addr
        # The handshake happens in the handler's thread (first read), so a slow client
        # never blocks accept().
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def record(self, entry):
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.log_lock:
            with open(self.log_file, "a") as f:
                f.write(line)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 30

    def log_message(self, *args):
        pass

    def classify(self):
        token = self.server.token
        seen = []
        for name in ("authorization", "x-api-key", "x-token"):
            for value in self.headers.get_all(name) or []:
                if token and token in value:
                    seen.append("token")
                elif "wdn_ph_" in value:
                    seen.append("placeholder")
                else:
                    seen.append("other")
        return ",".join(seen) or "none"

    def read_body(self):
        digest = hashlib.sha256()
        total = 0
        te = self.headers.get("Transfer-Encoding")
        if te is not None:
            if te.strip().lower() != "chunked":
                raise ValueError("transfer-encoding " + te)
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    chunk = self.rfile.read(min(left, 1 << 16))
                    if not chunk:
                        raise ValueError("short chunk")
                    digest.update(chunk)
                    total += len(chunk)
                    left -= len(chunk)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    raise ValueError("short body")
                digest.update(chunk)
                total += len(chunk)
                left -= len(chunk)
        return total, digest.hexdigest()

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        try:
            body_len, body_sha = self.read_body()
        except (ValueError, OSError) as e:
            self.close_connection = True
            self.reply(400, ("bad body: %s\n" % e).encode(), "text/plain")
            return
        sni = getattr(self.connection, "e2e_sni", None)
        self.server.record({
            "time": time.time(), "port": self.server.server_address[1], "sni": sni,
            "method": self.command, "target": self.path, "version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": body_len, "body_sha256": body_sha,
        })
        path = self.path.split("?", 1)[0]
        if path.startswith("/echo") or path.startswith("/ph/"):
            out = {"method": self.command, "path": self.path, "body_len": body_len,
                   "body_sha256": body_sha, "auth": self.classify(), "sni": sni,
                   "host": self.headers.get("Host")}
            self.reply(200, (json.dumps(out, sort_keys=True) + "\n").encode())
        elif path == "/sse":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(10):
                event = ("id: %d\ndata: event %d at %.3f\n\n" % (i, i, time.time())).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(b"0\r\n\r\n")
        elif path.startswith("/download/"):
            mib = int(path.rsplit("/", 1)[1])
            if not 0 <= mib <= 1024:
                self.reply(400, b"size\n", "text/plain")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(mib << 20))
            self.end_headers()
            if self.command != "HEAD":
                for _ in range(mib):
                    self.wfile.write(PATTERN)
        elif path == "/upload":
            self.reply(200, (json.dumps({"body_len": body_len, "body_sha256": body_sha}) + "\n").encode())
        else:
            self.reply(404, b"not found\n", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ports", type=int, default=1)
    p.add_argument("--token", default="")
    p.add_argument("--plain", action="store_true", help="plain HTTP (no TLS) on every port")
    a = p.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(a.cert, a.key)

    def remember_sni(sock, name, ctx):
        sock.e2e_sni = name
    context.sni_callback = remember_sni
    open(a.log, "a").close()
    servers = [Server((a.host, 0), None if a.plain else context, a.log, a.token) for _ in range(a.ports)]
    for s in servers:
        print("port=%d" % s.server_address[1], flush=True)
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # runs until the test closes our stdin (or kills us)
    finally:
        for s in servers:
            s.shutdown()


if __name__ == "__main__":
    main()
