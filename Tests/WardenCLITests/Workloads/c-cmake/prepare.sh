cat > CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.13)
project(calc C)
enable_testing()
add_library(calc calc.c)
add_executable(calc_test calc_test.c)
target_link_libraries(calc_test calc)
add_test(NAME calc_test COMMAND calc_test)
CM
cat > calc.c <<'C'
int gcd(int a, int b) { while (b) { int t = a % b; a = b; b = t; } return a < 0 ? -a : a; }
C
cat > calc_test.c <<'C'
#include <stdio.h>
int gcd(int a, int b);
int main(void) { int ok = gcd(12, 18) == 6 && gcd(7, 13) == 1 && gcd(-4, 6) == 2; puts(ok ? "ok" : "FAIL"); return !ok; }
C
printf 'build/\n' > .gitignore
