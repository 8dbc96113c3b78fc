"""The agent's side of the own-loopback tests (Tests/WardenCLITests/OwnLoopbackTests.swift).

Prints `label=ok[:detail]` or `label=<ERRNO name>` per step. Modes:
  serve HOSTPORT        own HTTP server on 127.0.0.1:0 and [::1]:0 used by the agent; UDP
                        echo on 127.0.0.1:0; the host's port HOSTPORT refused; non-loopback
                        binds and listens refused without a rule.
  race N DIR            N sockets bound to 127.0.0.1:0 (listening, half shut down), then
                        closed; their ports written to DIR/ports; waits for DIR/go, then
                        connects to each and writes DIR/done.
  restart PORT          a server on the fixed port 127.0.0.1:PORT, closed and started again.
  wildcard PORT         a server on 0.0.0.0:PORT (a bind rule) reached on 127.0.0.1:PORT.
  reuseport PORT        tries to share the host's SO_REUSEPORT listener on 127.0.0.1:PORT.
"""
import errno, http.server, os, socket, sys, threading, time, urllib.request


def err(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def step(label, fn):
    try:
        detail = fn()
        print(f"{label}=ok" + (f":{detail}" if detail is not None else ""), flush=True)
    except OSError as e:
        print(f"{label}={err(e)}", flush=True)


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("pong" + self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def http_server(cls, host):
    srv = cls((host, 0), Echo)  # binds port 0 and listens (SO_REUSEADDR set, as HTTPServer does)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def connect(family, host, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((host, port))
    finally:
        s.close()


def serve(host_port):
    v4 = http_server(http.server.ThreadingHTTPServer, "127.0.0.1")
    port4 = v4.server_address[1]
    print(f"own_port={port4}", flush=True)
    step("own_http", lambda: urllib.request.urlopen(f"http://127.0.0.1:{port4}/ping", timeout=10).read().decode())
    step("own_mapped", lambda: connect(socket.AF_INET6, "::ffff:127.0.0.1", port4))
    step("own_other_loopback_addr", lambda: connect(socket.AF_INET, "127.0.0.2", port4))
    try:
        v6 = http_server(Server6, "::1")
        port6 = v6.server_address[1]
        step("own_http6", lambda: urllib.request.urlopen(f"http://[::1]:{port6}/six", timeout=10).read().decode())
    except OSError as e:
        print(f"own_http6={err(e)}", flush=True)

    # UDP: an echo socket of the agent's own, a client that never called bind.
    def udp():
        srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        srv.bind(("127.0.0.1", 0))
        srv.settimeout(10)
        cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cli.settimeout(10)
        cli.sendto(b"dgram", srv.getsockname())
        data, peer = srv.recvfrom(64)
        srv.sendto(b"re:" + data, peer)
        return cli.recvfrom(64)[0].decode()
    step("own_udp", udp)

    # The host's loopback service on a port no rule names.
    step("host_tcp", lambda: connect(socket.AF_INET, "127.0.0.1", host_port))
    step("host_tcp_mapped", lambda: connect(socket.AF_INET6, "::ffff:127.0.0.1", host_port))

    # Off loopback a bind (or listen) needs a rule.
    def bind_any():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("0.0.0.0", 3917))
    step("bind_any", bind_any)

    def listen_any():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("0.0.0.0", 0))
        s.listen(1)
    step("listen_any", listen_any)

    def listen_unbound():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.listen(1)
    step("listen_unbound", listen_unbound)


def race(n, d):
    ports = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        ports.append(s.getsockname()[1])
        if i % 2:
            s.shutdown(socket.SHUT_RD)  # un-listens; must not release the port
        s.close()
    with open(d + "/ports.tmp", "w") as f:
        f.write("\n".join(map(str, ports)))
    os.rename(d + "/ports.tmp", d + "/ports")
    deadline = time.time() + 120
    while not os.path.exists(d + "/go") and time.time() < deadline:
        time.sleep(0.05)
    results = {}
    for p in ports:
        try:
            connect(socket.AF_INET, "127.0.0.1", p)
            results["ok"] = results.get("ok", 0) + 1
        except OSError as e:
            results[err(e)] = results.get(err(e), 0) + 1
    print("race_connects=" + ",".join(f"{k}:{v}" for k, v in sorted(results.items())), flush=True)
    open(d + "/done", "w").close()


def reuseport(port):
    def share():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", port))
        s.listen(8)
    step("share_reuseport", share)

    def plain():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    step("share_plain", plain)

    def late():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.listen(8)
    step("late_reuseport", late)

    def after_listen():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    step("after_listen_reuseport", after_listen)

    def udp_reuseaddr():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    step("udp_reuseaddr", udp_reuseaddr)

    def udp_reuseaddr_after_bind():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    step("udp_reuseaddr_after_bind", udp_reuseaddr_after_bind)

    def tcp_reuseaddr():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        value = s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        return value
    step("tcp_reuseaddr", tcp_reuseaddr)
    step("host_connect", lambda: connect(socket.AF_INET, "127.0.0.1", port))


def wildcard(port):
    def serve_any():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("0.0.0.0", port))  # a bind rule allows it
        s.listen(4)
        connect(socket.AF_INET, "127.0.0.1", port)
    step("wildcard_own", serve_any)


def restart(port):
    def server():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(4)
        return s
    first = server()
    step("second_while_held", lambda: server() and None)
    step("first_still_served", lambda: connect(socket.AF_INET, "127.0.0.1", port))
    first.close()
    holder = []
    step("restarted", lambda: holder.append(server()))
    step("restarted_served", lambda: connect(socket.AF_INET, "127.0.0.1", port))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "serve":
        serve(int(sys.argv[2]))
    elif mode == "race":
        race(int(sys.argv[2]), sys.argv[3])
    elif mode == "restart":
        restart(int(sys.argv[2]))
    elif mode == "wildcard":
        wildcard(int(sys.argv[2]))
    elif mode == "reuseport":
        reuseport(int(sys.argv[2]))
