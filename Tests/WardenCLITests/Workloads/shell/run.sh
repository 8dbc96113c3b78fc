# Reads the workspace only; results go to TMPDIR.
step find sh -c '[ "$(find src -type f -name "*.txt" | wc -l)" -eq 20000 ]'
step grep sh -c '[ "$(grep -rl needle src | wc -l)" -eq 2000 ]'
step xargs-sed-sort sh -c '[ "$(find src -type f -print0 | xargs -0 sed -n "s/^file \([0-9]*\) .*/\1/p" | sort -n -u | wc -l)" -eq 100 ]'
step tar sh -c 'tar -cf "$TMPDIR/src.tar" src && [ "$(tar -tf "$TMPDIR/src.tar" | grep -c "\.txt$")" -eq 20000 ]'
