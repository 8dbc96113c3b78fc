#!/usr/bin/env python3
"""Hostile client for BrokerAttackTests, run inside `warden run` (Python standard library).

Usage: attack_agent.py PORT ROGUE_PORT   (in the workspace holding agent-ca.pem, ca.pem, server.pem)

Prints key=value lines: `shape_NAME=STATUS|closed|handshake-failed...` per smuggling/framing
shape (sent raw over TLS to api.broker.test:PORT, @H = Host value, @P = port), SNI/Host
mismatch, oversized heads, 50 slow clients, the agent's own trust choices, certificate pinning,
and a request to an impostor upstream (slow.broker.test:ROGUE_PORT).
"""
import os, socket, ssl, subprocess, sys, time, urllib.request, urllib.error
PORT = int(sys.argv[1])
ROGUE = int(sys.argv[2])
HOST = "api.broker.test:%d" % PORT
W = os.getcwd()
SHAPES = [
    ('cl_te', 'POST /echo/atk-cl-te HTTP/1.1\r\nHost: @H\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo/atk-smuggled HTTP/1.1\r\nHost: @H\r\n\r\n'),
    ('te_list', 'POST /echo/atk-te-list HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'),
    ('te_space_colon', 'POST /echo/atk-te-space HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'),
    ('te_twice', 'POST /echo/atk-te-twice HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n'),
    ('te_xchunked', 'POST /echo/atk-te-x HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'),
    ('te_vtab', 'POST /echo/atk-te-vtab HTTP/1.1\r\nHost: @H\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n'),
    ('cl_twice', 'POST /echo/atk-cl-twice HTTP/1.1\r\nHost: @H\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde'),
    ('cl_sign', 'POST /echo/atk-cl-sign HTTP/1.1\r\nHost: @H\r\nContent-Length: +3\r\n\r\nabc'),
    ('obs_fold', 'GET /echo/atk-fold HTTP/1.1\r\nHost: @H\r\nX-A: a\r\n b\r\n\r\n'),
    ('bare_lf', 'GET /echo/atk-lf HTTP/1.1\nHost: @H\n\n'),
    ('nul_header', 'GET /echo/atk-nul HTTP/1.1\r\nHost: @H\r\nX-A: a\x00b\r\n\r\n'),
    ('two_hosts', 'GET /echo/atk-two-hosts HTTP/1.1\r\nHost: @H\r\nHost: other.broker.test\r\n\r\n'),
    ('pct2f', 'GET /echo/atk-a%2Fb HTTP/1.1\r\nHost: @H\r\n\r\n'),
    ('pct5c', 'GET /echo/atk-a%5Cb HTTP/1.1\r\nHost: @H\r\n\r\n'),
    ('dotdot', 'GET /echo/../atk-dotdot HTTP/1.1\r\nHost: @H\r\n\r\n'),
    ('dotdot_encoded', 'GET /echo/%2e%2e/atk-dotdot-enc HTTP/1.1\r\nHost: @H\r\n\r\n'),
    ('absolute_mismatch', 'GET https://other.broker.test:@P/echo/atk-absolute HTTP/1.1\r\nHost: @H\r\n\r\n'),
    ('connect', 'CONNECT other.broker.test:@P HTTP/1.1\r\nHost: other.broker.test:@P\r\n\r\n'),
    ('http09', 'GET /echo/atk-http09\r\n\r\n'),
    ('version', 'GET /echo/atk-version HTTP/1.2\r\nHost: @H\r\n\r\n'),
]

def out(k, v):
    print("%s=%s" % (k, v), flush=True)

def loose():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx

def connect(sni="api.broker.test", ctx=None, name="api.broker.test", port=PORT):
    s = socket.create_connection((name, port), timeout=10)
    return (ctx or loose()).wrap_socket(s, server_hostname=sni)

def exchange(raw, **kw):
    # status code of the first response, or "closed" when the broker hung up without one
    try:
        s = connect(**kw)
    except ssl.SSLError as e:
        return "handshake-failed:" + e.reason if e.reason else "handshake-failed"
    except OSError as e:
        return "closed"
    try:
        s.sendall(raw)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        s.close()
    if not data.startswith(b"HTTP/1."):
        return "closed"
    return data.split(b" ")[1].decode()

def get(url, ctx=None, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:
            r.read()
            return str(r.status)
    except urllib.error.HTTPError as e:
        return str(e.code)
    except ssl.SSLCertVerificationError as e:
        return "verify-failed:" + str(e.verify_message)
    except urllib.error.URLError as e:
        if isinstance(e.reason, ssl.SSLCertVerificationError):
            return "verify-failed:" + str(e.reason.verify_message)
        return "error:URLError:" + str(e.reason).replace("\n", " ")[:120]
    except Exception as e:
        return "error:" + type(e).__name__ + ":" + str(e).replace("\n", " ")[:120]

# Resolve every name once (the broker accepts SNI among names this run resolved).
for n in ("api.broker.test", "other.broker.test", "slow.broker.test"):
    socket.getaddrinfo(n, PORT)
out("control", get("https://%s/echo/control" % HOST))

for name, raw in SHAPES:
    out("shape_" + name, exchange(raw.replace("@H", HOST).replace("@P", str(PORT)).encode("latin-1")))

def pipelined(raw):
    # statuses of every response to requests written back to back on one connection
    s = connect()
    s.settimeout(5)
    s.sendall(raw)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    return ",".join(part.split(b" ")[0].decode() for part in data.split(b"HTTP/1.1 ")[1:] if part[:3].isdigit()) or "closed"

out("pipelined", pipelined(("GET /echo/pipe-first HTTP/1.1\r\nHost: %s\r\n\r\nGET /atk-pipelined HTTP/1.1\r\nHost: %s\r\n\r\n" % (HOST, HOST)).encode()))
out("pipelined_host", pipelined(("GET /echo/pipe-host HTTP/1.1\r\nHost: %s\r\n\r\nGET /echo/atk-pipelined-host HTTP/1.1\r\nHost: other.broker.test:%d\r\n\r\n" % (HOST, PORT)).encode()))

out("sni_host", exchange(("GET /echo/sni-host HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST).encode(), sni="other.broker.test"))
out("sni_unknown", exchange(("GET /echo/sni-unknown HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST).encode(), sni="unresolved.broker.test"))

# Oversized head: 70 KiB of one header; then, is the connection closed?
s = connect()
s.sendall(("GET /echo/atk-huge HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n" % (HOST, "a" * 70000)).encode())
data = b""
closed = 0
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            closed = 1
            break
        data += chunk
except OSError:
    closed = 1
out("huge_head", data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.") else "closed")
out("huge_head_closed", closed)
s.close()
many = "".join("X-H%d: v\r\n" % i for i in range(150))
out("many_headers", exchange(("GET /echo/atk-many HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (HOST, many)).encode()))
out("after_huge", get("https://%s/echo/after-huge" % HOST))

# 50 slow clients: 25 never start TLS, 25 send half a request head and stall.
slow = []
for i in range(50):
    try:
        if i % 2:
            t = socket.create_connection(("api.broker.test", PORT), timeout=10)
        else:
            t = connect()
            t.sendall(("GET /echo/slow-%d HTTP/1.1\r\nHost: %s\r\nX-Slow: " % (i, HOST)).encode())
        slow.append(t)
    except OSError as e:
        out("slow_error", str(e))
out("slow_held", len(slow))
start = time.monotonic()
out("during_slow", get("https://%s/echo/during-slow" % HOST))
out("during_slow_seconds", "%.3f" % (time.monotonic() - start))
for t in slow:
    t.close()

# Own trust: the agent's CA, or the upstream's real CA; the broker's leaf is what it gets.
out("own_ca", get("https://%s/echo/own-ca" % HOST, ssl.create_default_context(cafile=W + "/agent-ca.pem")))
out("upstream_ca", get("https://%s/echo/upstream-ca" % HOST, ssl.create_default_context(cafile=W + "/ca.pem")))
env = dict(os.environ, SSL_CERT_FILE=W + "/agent-ca.pem", CURL_CA_BUNDLE=W + "/agent-ca.pem")
out("curl_own_ca", subprocess.run(["curl", "-s", "-o", "/dev/null", "https://%s/echo/curl-own-ca" % HOST], env=env).returncode)
pem = subprocess.run(["openssl", "s_client", "-connect", "api.broker.test:%d" % PORT, "-servername", "api.broker.test"],
                     input=b"", capture_output=True).stdout
issuer = subprocess.run(["openssl", "x509", "-noout", "-issuer"], input=pem, capture_output=True).stdout.decode().strip()
out("presented_issuer", issuer or "none")
pin = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
pin.load_verify_locations(cadata=open(W + "/server.pem").read())
pin.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
out("pinned", get("https://%s/echo/pinned" % HOST, pin))

# The impostor upstream.
out("rogue", get("https://slow.broker.test:%d/echo/rogue" % ROGUE))
