/* Syscall overhead under a seccomp filter, for `make bench`.
 *
 *   sysloop FILTER KIND ITERATIONS
 *
 * FILTER: `none`; `allow-all` (a one-instruction `ret ALLOW` filter: the floor every
 * seccomp sandbox pays); or a raw BPF file (struct sock_filter array, as written by
 * `warden compile --emit bpf` or scripts/bench-src/docker-bpf). The program installs the
 * filter itself (no_new_privs, then seccomp(SET_MODE_FILTER)), so only the filter is
 * measured, never a launcher.
 * KIND: `getppid` (allowed without conditions); `ioctl` (ioctl(pipe, FIONREAD): the
 * request argument is checked by Warden's default policy); `socket` (socket(AF_UNIX,
 * SOCK_STREAM) + close: the domain is checked by Docker's profile and by the bench's
 * socket policy); `denied` (bpf(2) with bad arguments, which Warden's default policy denies
 * and the supervisor records and answers; it must fail with EPERM). FILTER `errno-all` is
 * the kernel's floor for a denial: bpf(2) fails with EPERM in the filter itself.
 * Runs 15 chunks of ITERATIONS/15 calls after a warm-up and prints the fastest chunk's ns
 * per call: on a shared machine, preemption only ever adds time, so the fastest chunk is
 * the closest to the cost of the syscall itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNKS 15

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void install(const char *what) {
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* errno-all: bpf(2), the call `denied` makes, fails with EPERM in the kernel; all else runs. */
	struct sock_filter eperm[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bpf, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	static struct sock_filter buf[BPF_MAXINSNS];
	if (strcmp(what, "none") == 0) return;
	if (strcmp(what, "errno-all") == 0) {
		prog.filter = eperm;
		prog.len = sizeof eperm / sizeof eperm[0];
	} else if (strcmp(what, "allow-all") != 0) {
		FILE *f = fopen(what, "rb");
		if (!f) { perror(what); exit(2); }
		size_t n = fread(buf, sizeof buf[0], BPF_MAXINSNS, f);
		fclose(f);
		if (n == 0) { fprintf(stderr, "sysloop: %s: empty filter\n", what); exit(2); }
		prog.len = (unsigned short)n;
		prog.filter = buf;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); exit(2); }
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) { perror("seccomp"); exit(2); }
}

static int fds[2];

static int once(int kind) {
	switch (kind) {
	case 0:
		return (int)syscall(SYS_getppid);
	case 1: {
		int n;
		return ioctl(fds[0], FIONREAD, &n);
	}
	case 2: {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0) return -1;
		return close(s);
	}
	default:
		/* A call the policy denies: success is failing with EPERM. */
		return syscall(SYS_bpf, -1, 0, 0) == -1 && errno == EPERM ? 0 : -1;
	}
}

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: sysloop none|allow-all|errno-all|FILE.bpf getppid|ioctl|socket|denied ITERATIONS\n"); return 2; }
	int kind = strcmp(argv[2], "getppid") == 0 ? 0 : strcmp(argv[2], "ioctl") == 0 ? 1 : strcmp(argv[2], "socket") == 0 ? 2
	         : strcmp(argv[2], "denied") == 0 ? 3 : -1;
	long iters = atol(argv[3]);
	if (kind < 0 || iters <= 0) { fprintf(stderr, "sysloop: bad arguments\n"); return 2; }
	if (pipe(fds) != 0) { perror("pipe"); return 2; }
	install(argv[1]);
	if (once(kind) < 0) { fprintf(stderr, "sysloop: %s failed under %s: %s\n", argv[2], argv[1], strerror(errno)); return 1; }
	for (long i = 0; i < iters / 10; i++) once(kind);
	long chunk = iters / CHUNKS > 0 ? iters / CHUNKS : 1;
	double per[CHUNKS];
	for (int c = 0; c < CHUNKS; c++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < chunk; i++) once(kind);
		per[c] = (double)(now_ns() - t0) / (double)chunk;
	}
	qsort(per, CHUNKS, sizeof per[0], cmp);
	printf("%.2f\n", per[0]);
	return 0;
}
