# 20,000 small files in 100 directories; every tenth holds "needle".
mkdir src
d=0
while [ $d -lt 100 ]; do
  mkdir src/d$d
  j=0
  while [ $j -lt 200 ]; do
    if [ $((j % 10)) -eq 0 ]; then w=needle; else w=hay; fi
    printf 'file %s %s\n%s\nend\n' $d $j $w > src/d$d/f$j.txt
    j=$((j + 1))
  done
  d=$((d + 1))
done
