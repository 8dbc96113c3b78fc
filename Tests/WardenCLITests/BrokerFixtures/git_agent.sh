#!/bin/sh
# The agent of BrokerGitTests, run inside `warden run` in its workspace:
#   git_agent.sh PORT
# Clones https://git.broker.test:PORT/acme/app.git with made-up credentials of its own (the
# broker must replace them), commits, and pushes: an allowed ref, main, main next to an
# allowed ref, a deletion. Prints key=value lines (exit statuses, commit ids).
set -u
export GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@broker.test GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@broker.test
W=$(pwd)
url=https://git.broker.test:$1/acme/app.git
auth="http.extraHeader=Authorization: Basic $(printf 'x-access-token:made-up' | base64)"
git -c "$auth" clone -q "$url" "$W/app" 2>&1; echo "clone=$?"
cd "$W/app" || exit 1
echo "clone_head=$(git rev-parse HEAD)"
echo change >> README && git commit -qam "agent change"
echo "agent_commit=$(git rev-parse HEAD)"
git -c "$auth" push -q origin HEAD:refs/heads/agent/feature 2>&1; echo "push_agent=$?"
git -c "$auth" push -q origin HEAD:refs/heads/main 2>&1; echo "push_main=$?"
git -c "$auth" push -q origin HEAD:refs/heads/agent/other HEAD:refs/heads/main 2>&1; echo "push_mixed=$?"
git -c "$auth" push -q origin :refs/heads/agent/feature 2>&1; echo "push_delete=$?"
exit 0
