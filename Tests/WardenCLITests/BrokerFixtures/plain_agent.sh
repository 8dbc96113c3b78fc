#!/bin/sh
# The agent of BrokerEndToEndTests' plain-http test, run inside `warden run`:
#   plain_agent.sh PORT
# Plain HTTP to api.broker.test:PORT (an `allow http ... with header` rule): the secret is
# injected; a Host naming another name, a path no rule allows and a placeholder to the
# bound host are checked. Prints key=value lines.
set -u
B=http://api.broker.test:$1
j() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], "?"))' "$1"; }
echo "plain_auth=$(curl -sS -H 'X-Api-Key: agent-made-this-up' $B/echo/plain | j auth)"
echo "plain_other_host=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: other.broker.test:$1" $B/echo/plain-host)"
echo "plain_unlisted=$(curl -s -o /dev/null -w '%{http_code}' $B/private)"
echo "plain_post=$(curl -s -o /dev/null -w '%{http_code}' -d x=1 $B/echo/plain-post)"
exit 0
