# 20,000 small files in 100 directories; every tenth holds "needle".
seq 0 99 | sed 's|^|src/d|' | xargs mkdir -p
awk 'BEGIN {
  for (d = 0; d < 100; d++)
    for (j = 0; j < 200; j++) {
      f = "src/d" d "/f" j ".txt"
      printf "file %d %d\n%s\nend\n", d, j, (j % 10 == 0 ? "needle" : "hay") > f
      close(f)
    }
}'
