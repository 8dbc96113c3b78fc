mkdir -p cmd/calc
printf 'module example.com/matrix\n\ngo 1.19\n' > go.mod
cat > calc.go <<'G'
// Package calc is the workload matrix's Go module.
package calc

// Fib returns the n-th Fibonacci number.
func Fib(n int) int {
	a, b := 0, 1
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return a
}
G
cat > calc_test.go <<'G'
package calc

import (
	"fmt"
	"testing"
)

func TestFib(t *testing.T) {
	for n, want := range []int{0, 1, 1, 2, 3, 5, 8, 13} {
		if got := Fib(n); got != want {
			t.Errorf("Fib(%d) = %d, want %d", n, got, want)
		}
	}
}

func ExampleFib() {
	fmt.Println(Fib(10))
	// Output: 55
}
G
cat > cmd/calc/main.go <<'G'
package main

import (
	"fmt"

	"example.com/matrix"
)

func main() { fmt.Println(calc.Fib(20)) }
G
