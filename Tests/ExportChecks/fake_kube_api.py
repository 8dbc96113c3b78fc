#!/usr/bin/env python3
"""A fake Kubernetes API server for the Kubernetes executor's tests (loopback, plain HTTP).

usage: fake_kube_api.py CONFIG.json
  CONFIG: {"requests": FILE (every request appended as one JSON line: method, path,
           authorization, body), "mode": "ok" | "forbidden" | "error500" | "job-failed" |
           "never-done", "chain": FILE (the audit log the pod "printed"), "exit": N,
           "polls": N (looks at the Job before it is done)}
Prints the port it listens on, then serves until killed. Like the API server, it answers
object creation with the object, a Job's status, the Job's pods by label, and the `warden`
container's log, which it builds from the Job it received (the nonce of its command) and
the chain file: begin marker, chain, end marker, output."""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

config = json.load(open(sys.argv[1]))
mode = config.get("mode", "ok")
jobs = {}
polls = {}


def status(code, reason, message):
    return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, body):
        with open(config["requests"], "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "authorization": self.headers.get("Authorization"),
                                "content_type": self.headers.get("Content-Type"), "body": body}) + "\n")

    def answer(self, code, obj=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        self.record(body)
        if mode == "forbidden":
            return self.answer(*status(403, "Forbidden", 'configmaps is forbidden: User "system:serviceaccount:agents:warden" cannot create resource "configmaps"'))
        if mode == "error500":
            return self.answer(*status(500, "InternalError", "etcdserver: request timed out"))
        path = self.path.split("?")[0]
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/configmaps", path)
        if m and self.command == "POST":
            return self.answer(201, body)
        m = re.fullmatch(r"/apis/batch/v1/namespaces/([^/]+)/jobs", path)
        if m and self.command == "POST":
            jobs[body["metadata"]["name"]] = body
            return self.answer(201, body)
        m = re.fullmatch(r"/apis/batch/v1/namespaces/([^/]+)/jobs/([^/]+)", path)
        if m and self.command == "GET":
            name = m.group(2)
            if name not in jobs:
                return self.answer(*status(404, "NotFound", f'jobs.batch "{name}" not found'))
            polls[name] = polls.get(name, 0) + 1
            job = dict(jobs[name])
            if mode == "never-done" or polls[name] <= config.get("polls", 1):
                job["status"] = {"active": 1}
            elif mode == "job-failed":
                job["status"] = {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                                              "message": "Job has reached the specified backoff limit"}]}
            else:
                job["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
            return self.answer(200, job)
        if m and self.command == "DELETE":
            jobs.pop(m.group(2), None)
            return self.answer(200, {"kind": "Status", "status": "Success"})
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/configmaps/([^/]+)", path)
        if m and self.command == "DELETE":
            return self.answer(200, {"kind": "Status", "status": "Success"})
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods", path)
        if m and self.command == "GET":
            sel = re.search(r"labelSelector=job-name%3D([a-z0-9-]+)", self.path)
            items = [{"metadata": {"name": sel.group(1) + "-x7k2p", "labels": {"job-name": sel.group(1)}}}] if sel else []
            return self.answer(200, {"kind": "PodList", "apiVersion": "v1", "items": items})
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([a-z0-9-]+)-x7k2p/log", path)
        if m and self.command == "GET":
            job = jobs.get(m.group(2))
            if job is None:
                return self.answer(*status(404, "NotFound", "no such pod"))
            if mode == "job-failed":
                return self.answer(200, raw=b"", ctype="text/plain")
            nonce = job["spec"]["template"]["spec"]["containers"][0]["command"][4]
            chain = open(config["chain"], "rb").read()
            log = (b"warden-audit-begin " + nonce.encode() + b"\n" + chain
                   + b"warden-audit-end " + nonce.encode() + b" exit=" + str(config.get("exit", 0)).encode() + b"\n"
                   + b"warden-output-begin " + nonce.encode() + b"\nhello from the agent\n")
            return self.answer(200, raw=log, ctype="text/plain")
        return self.answer(*status(404, "NotFound", f"no route {self.command} {path}"))

    do_GET = do_POST = do_DELETE = handle_one


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
