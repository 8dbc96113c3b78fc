#!/bin/sh
# The agent of BrokerEndToEndTests, run inside `warden run` in its workspace:
#   e2e_agent.sh PORT
# Uses curl, python3 (urllib, requests when installed, then a dump of its own memory) and node
# fetch against https://api.broker.test:PORT and https://other.broker.test:PORT; prints
# key=value lines; copies what it can see (env, its home, /tmp, the run token) into the
# workspace for the host to search.
export BASE=https://api.broker.test:$1
export OTHER=https://other.broker.test:$1
set -u
export W=$(pwd)
j() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], "?"))' "$1"; }
echo "placeholder_env=${GH_TOKEN:-unset}"
env | grep -q "^GH_TOKEN=wdn_ph_" && echo env_has_placeholder=1
# curl: its own Authorization header is replaced by the broker's.
printf 'hello from curl\n' > "$W/body.txt"
echo "curl_body_sha=$(sha256sum < "$W/body.txt" | cut -d' ' -f1)"
echo "curl_auth=$(curl -sS -H 'Authorization: Bearer agent-made-this-up' --data-binary @"$W/body.txt" $BASE/echo/curl | j auth)"
# SSE: 10 events 100 ms apart must arrive spread out, not all at the end.
/usr/bin/python3 - <<'PY'
import os, time, urllib.request
times = []
with urllib.request.urlopen(os.environ["BASE"] + "/sse", timeout=20) as r:
    for line in r:
        if line.startswith(b"data:"):
            times.append(time.monotonic())
print("sse_events=%d" % len(times))
print("sse_spread=%.3f" % (times[-1] - times[0] if times else 0))
PY
# 20 MiB down, 20 MiB up.
echo "download_expect=$(/usr/bin/python3 -c 'import hashlib,sys; p=bytes(range(256))*4096; h=hashlib.sha256(); [h.update(p) for _ in range(20)]; print(h.hexdigest())')"
curl -sS -o "$W/dl.bin" $BASE/download/20
echo "download_bytes=$(stat -c %s "$W/dl.bin")"
echo "download_sha=$(sha256sum < "$W/dl.bin" | cut -d' ' -f1)"
rm -f "$W/dl.bin"
head -c 20971520 /dev/urandom > "$W/up.bin"
echo "upload_expect=$(sha256sum < "$W/up.bin" | cut -d' ' -f1)"
echo "upload_sha=$(curl -sS -T "$W/up.bin" $BASE/upload | j body_sha256)"
rm -f "$W/up.bin"
# Refused: a denied method, a path no rule allows.
echo "delete_status=$(curl -s -o "$W/refused.txt" -w '%{http_code}' -X DELETE $BASE/echo/delete)"
echo "delete_body=$(head -c 300 "$W/refused.txt" | tr '\n' ' ')"
echo "unlisted_status=$(curl -s -o /dev/null -w '%{http_code}' $BASE/private)"
# Placeholder: in a header to the bound host (replaced), to another host, in the URL, in a body.
echo "ph_bound_auth=$(curl -sS -H "X-Token: ${GH_TOKEN:-unset}" $BASE/ph/bound | j auth)"
echo "ph_other_status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Token: ${GH_TOKEN:-unset}" $OTHER/echo/ph-other)"
echo "ph_url_status=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/ph/url?t=${GH_TOKEN:-unset}")"
echo "ph_body_status=$(curl -s -o /dev/null -w '%{http_code}' --data "token=${GH_TOKEN:-unset}" $BASE/ph/body)"
# python: urllib, then requests; then this very process dumps its own memory.
/usr/bin/python3 - <<'PY'
import json, os, urllib.request
try:
    with urllib.request.urlopen(urllib.request.Request(os.environ["BASE"] + "/echo/urllib", headers={"Authorization": "Bearer nope"}), timeout=20) as r:
        print("urllib_auth=" + json.load(r)["auth"])
except Exception as e:
    print("urllib_auth=error:%s:%s" % (type(e).__name__, str(e)[:120]))
try:
    import requests
    print("requests_auth=" + requests.get(os.environ["BASE"] + "/echo/requests", timeout=20).json()["auth"])
except ImportError:
    print("requests_auth=skip")
except Exception as e:
    print("requests_auth=error:" + type(e).__name__)
total = 0
with open(os.environ["W"] + "/mem.bin", "wb") as out, open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
    for line in maps:
        fields = line.split()
        if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]")):
            continue
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except (OSError, ValueError, OverflowError):
            continue
        out.write(data)
        total += len(data)
print("mem_bytes=%d" % total)
PY
# node fetch (NODE_EXTRA_CA_CERTS carries the run's CA).
if command -v node >/dev/null; then
  echo "node_auth=$(node -e 'fetch(process.argv[1]).then(r => r.json()).then(j => console.log(j.auth), e => console.log("error:" + e.cause))' $BASE/echo/node)"
else
  echo node_auth=skip
fi
# The run token, and everything the agent can see, copied where the host can search it.
cp "${WARDEN_ID_TOKEN_FILE:-/nonexistent}" "$W/token.jwt" && echo token_file=1
env > "$W/env.txt"
mkdir -p "$W/seen"
# (capped: in the world both are small and private to the run)
# markers prove the archives hold what was there; the workspace (under /tmp here) is left out
echo e2e-marker-home > "$HOME/.e2e-marker"
echo e2e-marker-tmp > "${TMPDIR:-/tmp}/.e2e-marker"
tar cf - --exclude="$W" "$HOME" 2>/dev/null | head -c 200000000 > "$W/seen/home.tar"
tar cf - --exclude="$W" "${TMPDIR:-/tmp}" 2>/dev/null | head -c 200000000 > "$W/seen/tmp.tar"
grep -q e2e-marker-home "$W/seen/home.tar" && grep -q e2e-marker-tmp "$W/seen/tmp.tar" && echo seen_markers=1
cat /proc/self/environ > "$W/seen/environ" 2>/dev/null
echo "seen_files=$(ls "$W/seen" | wc -l)"
exit 0
