/* Filter cost over a recorded syscall mix, for `make bench`.
 *
 *   bpfcount FILTER.bpf MIX
 *
 * Runs a classic-BPF seccomp filter (raw sock_filter array) on every call of MIX
 * (scripts/bench-data/syscall-mix.txt: COUNT NAME ARG0..ARG5, x86_64) and counts the
 * instructions executed, as the kernel's interpreter would. Also counts what the kernel
 * really runs since Linux 5.11: a syscall whose filter result is ALLOW without reading the
 * arguments or instruction pointer is answered from the per-filter action cache (bitmap)
 * without running the filter, so it costs 0 instructions.
 * Prints key=value lines: length, calls, mean, mean_cached, cached_fraction, allowed_fraction.
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sock_filter prog[BPF_MAXINSNS];
static unsigned len;

/* Runs the filter; returns its action, the instructions executed and whether anything but
 * nr and arch was read (then the kernel's action cache cannot answer for this syscall). */
static uint32_t run(const struct seccomp_data *d, unsigned *steps, int *touched) {
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
	const unsigned char *data = (const unsigned char *)d;
	*steps = 0;
	*touched = 0;
	for (unsigned pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &prog[pc];
		(*steps)++;
		uint32_t src = BPF_SRC(i->code) == BPF_X ? X : i->k;
		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			switch (BPF_MODE(i->code)) {
			case BPF_ABS:
				if (i->k + 4 > sizeof *d || (i->k & 3)) return SECCOMP_RET_KILL_PROCESS;
				if (i->k != offsetof(struct seccomp_data, nr) && i->k != offsetof(struct seccomp_data, arch)) *touched = 1;
				memcpy(&A, data + i->k, 4);
				break;
			case BPF_IMM: A = i->k; break;
			case BPF_MEM: A = M[i->k % BPF_MEMWORDS]; break;
			case BPF_LEN: A = sizeof *d; break;
			default: return SECCOMP_RET_KILL_PROCESS;
			}
			break;
		case BPF_LDX:
			switch (BPF_MODE(i->code)) {
			case BPF_IMM: X = i->k; break;
			case BPF_MEM: X = M[i->k % BPF_MEMWORDS]; break;
			case BPF_LEN: X = sizeof *d; break;
			default: return SECCOMP_RET_KILL_PROCESS;
			}
			break;
		case BPF_ST: M[i->k % BPF_MEMWORDS] = A; break;
		case BPF_STX: M[i->k % BPF_MEMWORDS] = X; break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_ADD: A += src; break;
			case BPF_SUB: A -= src; break;
			case BPF_MUL: A *= src; break;
			case BPF_DIV: if (!src) return 0; A /= src; break;
			case BPF_MOD: if (!src) return 0; A %= src; break;
			case BPF_AND: A &= src; break;
			case BPF_OR: A |= src; break;
			case BPF_XOR: A ^= src; break;
			case BPF_LSH: A <<= (src & 31); break;
			case BPF_RSH: A >>= (src & 31); break;
			case BPF_NEG: A = -A; break;
			default: return SECCOMP_RET_KILL_PROCESS;
			}
			break;
		case BPF_JMP: {
			int taken;
			switch (BPF_OP(i->code)) {
			case BPF_JA: pc += i->k; continue;
			case BPF_JEQ: taken = A == src; break;
			case BPF_JGT: taken = A > src; break;
			case BPF_JGE: taken = A >= src; break;
			case BPF_JSET: taken = (A & src) != 0; break;
			default: return SECCOMP_RET_KILL_PROCESS;
			}
			pc += taken ? i->jt : i->jf;
			break;
		}
		case BPF_RET: return BPF_RVAL(i->code) == BPF_A ? A : i->k;
		case BPF_MISC: if (BPF_MISCOP(i->code) == BPF_TAX) X = A; else A = X; break;
		default: return SECCOMP_RET_KILL_PROCESS;
		}
	}
	return SECCOMP_RET_KILL_PROCESS; /* fell off the end: the kernel rejects such filters */
}

int main(int argc, char **argv) {
	if (argc != 3) { fprintf(stderr, "usage: bpfcount FILTER.bpf MIX\n"); return 2; }
	FILE *f = fopen(argv[1], "rb");
	if (!f) { perror(argv[1]); return 2; }
	len = (unsigned)fread(prog, sizeof prog[0], BPF_MAXINSNS, f);
	fclose(f);
	if (len == 0) { fprintf(stderr, "bpfcount: %s: empty filter\n", argv[1]); return 2; }
	FILE *m = fopen(argv[2], "r");
	if (!m) { perror(argv[2]); return 2; }
	char line[1024], name[64];
	unsigned long long a[6];
	double calls = 0, steps_sum = 0, steps_cached = 0, cached = 0, allowed = 0;
	long count;
	while (fgets(line, sizeof line, m)) {
		if (line[0] == '#') continue;
		if (sscanf(line, "%ld %63s %llx %llx %llx %llx %llx %llx", &count, name, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) != 8) {
			fprintf(stderr, "bpfcount: bad mix line: %s", line);
			return 2;
		}
		int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
		if (nr == __NR_SCMP_ERROR) { fprintf(stderr, "bpfcount: unknown syscall %s\n", name); return 2; }
		struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = 0x7f0000001000 };
		for (int i = 0; i < 6; i++) d.args[i] = a[i];
		unsigned steps;
		int touched;
		uint32_t action = run(&d, &steps, &touched);
		int is_allow = (action & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ALLOW;
		calls += count;
		steps_sum += (double)count * steps;
		if (is_allow && !touched) cached += count; else steps_cached += (double)count * steps;
		if (is_allow) allowed += count;
	}
	fclose(m);
	if (calls == 0) { fprintf(stderr, "bpfcount: empty mix\n"); return 2; }
	printf("length=%u\ncalls=%.0f\nmean=%.2f\nmean_cached=%.2f\ncached_fraction=%.4f\nallowed_fraction=%.4f\n",
	       len, calls, steps_sum / calls, steps_cached / calls, cached / calls, allowed / calls);
	return 0;
}
