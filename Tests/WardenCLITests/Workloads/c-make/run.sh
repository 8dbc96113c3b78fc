step build make -j2
step check make check
step run sh -c './hello | grep -qx "square(7) = 49"'
step clean make clean
