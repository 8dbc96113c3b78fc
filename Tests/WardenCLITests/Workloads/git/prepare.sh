# A repository with some history; commits inside the run use the operator's identity
# from ~/.gitconfig.
g() { git -c gc.auto=0 -c user.name=Operator -c user.email=operator@example.com "$@"; }
g init -q -b main
printf 'notes\n' > notes.txt
printf '.worktrees/\n' > .gitignore
g add -A && g commit -qm "initial"
for i in 1 2 3; do printf 'line %s\n' "$i" >> notes.txt; g commit -qam "note $i"; done
