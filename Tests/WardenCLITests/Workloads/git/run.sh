step branch git checkout -q -b feature
step commit sh -c 'echo feature >> notes.txt && git commit -qam "feature work"'
step main-commit sh -c 'git checkout -q main && echo main > main.txt && git add main.txt && git commit -qm "main work"'
step rebase sh -c 'git checkout -q feature && git rebase -q main'
step author sh -c 'git log -1 --format=%ae | grep -qx operator@example.com'
step worktree sh -c 'git worktree add -q .worktrees/w1 -b w1 main && git -C .worktrees/w1 log --oneline -1'
step gc git gc -q
step fsck git fsck --no-progress
step clone sh -c 'git clone -q . "$TMPDIR/clone" && git -C "$TMPDIR/clone" log --oneline | grep -q "main work"'
