cat > square.c <<'C'
int square(int x) { return x * x; }
C
cat > hello.c <<'C'
#include <stdio.h>
int square(int x);
int main(void) { printf("square(7) = %d\n", square(7)); return 0; }
C
cat > test_square.c <<'C'
#include <stdio.h>
int square(int x);
int main(void) {
    int bad = 0;
    for (int i = -50; i <= 50; i++) if (square(i) != i * i) { printf("square(%d) wrong\n", i); bad++; }
    printf("%s\n", bad ? "FAIL" : "ok");
    return bad != 0;
}
C
printf '%s\n' \
  'CFLAGS = -O2 -Wall' \
  'all: hello test_square' \
  'hello: hello.o square.o' \
  '	$(CC) -o $@ hello.o square.o' \
  'test_square: test_square.o square.o' \
  '	$(CC) -o $@ test_square.o square.o' \
  '%.o: %.c' \
  '	$(CC) $(CFLAGS) -c $< -o $@' \
  'check: test_square' \
  '	./test_square' \
  'clean:' \
  '	rm -f *.o hello test_square' \
  '.PHONY: all check clean' > Makefile
printf '*.o\nhello\ntest_square\n' > .gitignore
