#!/usr/bin/env python3
"""A fake GitHub REST API for warden serve's team lookups (loopback, plain HTTP).

usage: fake_github_api.py CONFIG.json
  CONFIG: {"requests": FILE (every request appended as one JSON line: method, raw path,
           authorization, accept, api_version), "token": the bearer token it accepts,
           "teams": {"org/slug": {"login": "active" | "pending"}}}
Prints the port it listens on, then serves until killed. It answers
GET /orgs/ORG/teams/SLUG/memberships/LOGIN like GitHub: 200 with the membership's state,
404 for anyone else; 401 for another token. Some logins misbehave on purpose:
  forbidden 403, broken 500, moved 302 (Location elsewhere), huge a 1 MiB body,
  slow answers after 20 s, garbled a 200 that is not JSON, stateless a 200 without "state".
"""
import json
import re
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

config = json.load(open(sys.argv[1]))
teams = {k.lower(): {l.lower(): s for l, s in v.items()} for k, v in config.get("teams", {}).items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, obj=None, raw=None, headers=()):
        data = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        with open(config["requests"], "a") as f:
            f.write(json.dumps({"method": "GET", "path": self.path,
                                "authorization": self.headers.get("Authorization"),
                                "accept": self.headers.get("Accept"),
                                "api_version": self.headers.get("X-GitHub-Api-Version")}) + "\n")
        if self.headers.get("Authorization") != "Bearer " + config.get("token", ""):
            return self.answer(401, {"message": "Bad credentials"})
        m = re.fullmatch(r"/orgs/([^/?]+)/teams/([^/?]+)/memberships/([^/?]+)", self.path)
        if not m:
            return self.answer(404, {"message": "Not Found"})
        org, slug, login = (urllib.parse.unquote(x) for x in m.groups())
        if login == "forbidden":
            return self.answer(403, {"message": "Resource not accessible by integration"})
        if login == "broken":
            return self.answer(500, {"message": "Server Error"})
        if login == "moved":
            return self.answer(302, {"message": "Moved"}, headers=[("Location", "http://127.0.0.1:1/elsewhere")])
        if login == "huge":
            return self.answer(200, raw=b'{"state":"active","pad":"' + b"x" * (1 << 20) + b'"}')
        if login == "slow":
            time.sleep(20)
            return self.answer(200, {"state": "active", "role": "member"})
        if login == "garbled":
            return self.answer(200, raw=b"{not json")
        if login == "stateless":
            return self.answer(200, {"role": "member"})
        state = teams.get((org + "/" + slug).lower(), {}).get(login.lower())
        if state is None:
            return self.answer(404, {"message": "Not Found"})
        return self.answer(200, {"url": "https://api.github.com/x", "role": "member", "state": state})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
