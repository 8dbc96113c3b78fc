/* Builds Docker's default seccomp profile through libseccomp, for `make bench`.
 *
 *   docker-bpf RULES OUT.bpf
 *
 * RULES is the output of docker-rules.py. Like runc (through libseccomp-golang), each
 * syscall name is resolved for the native architecture (unknown names are skipped), rules
 * are added with seccomp_rule_add_array (libseccomp translates them for the x86 and x32
 * sub-architectures that Docker's archMap adds), and libseccomp's default settings are
 * kept (no binary-tree optimisation). Not modelled: runc's prepended ENOSYS stub for
 * syscalls newer than the profile. Writes the raw sock_filter array to OUT.bpf.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t parse_action(const char *s) {
	if (strcmp(s, "allow") == 0) return SCMP_ACT_ALLOW;
	if (strncmp(s, "errno:", 6) == 0) return SCMP_ACT_ERRNO((uint16_t)atoi(s + 6));
	fprintf(stderr, "docker-bpf: unknown action %s\n", s);
	exit(2);
}

static enum scmp_compare parse_op(const char *s) {
	static const struct { const char *n; enum scmp_compare op; } ops[] = {
		{"NE", SCMP_CMP_NE}, {"LT", SCMP_CMP_LT}, {"LE", SCMP_CMP_LE}, {"EQ", SCMP_CMP_EQ},
		{"GE", SCMP_CMP_GE}, {"GT", SCMP_CMP_GT}, {"MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(s, ops[i].n) == 0) return ops[i].op;
	fprintf(stderr, "docker-bpf: unknown comparison %s\n", s);
	exit(2);
}

int main(int argc, char **argv) {
	if (argc != 3) { fprintf(stderr, "usage: docker-bpf RULES OUT.bpf\n"); return 2; }
	FILE *f = fopen(argv[1], "r");
	if (!f) { perror(argv[1]); return 2; }
	char line[4096];
	scmp_filter_ctx ctx = NULL;
	int rules = 0, skipped = 0;
	while (fgets(line, sizeof line, f)) {
		char *tok[32];
		int n = 0;
		for (char *save = NULL, *t = strtok_r(line, " \n", &save); t && n < 32; t = strtok_r(NULL, " \n", &save)) tok[n++] = t;
		if (n == 0) continue;
		if (strcmp(tok[0], "default") == 0) {
			ctx = seccomp_init(parse_action(tok[1]));
			if (!ctx) { fprintf(stderr, "docker-bpf: seccomp_init failed\n"); return 1; }
			continue;
		}
		if (!ctx) { fprintf(stderr, "docker-bpf: `%s` before `default`\n", tok[0]); return 2; }
		if (strcmp(tok[0], "arch") == 0) {
			uint32_t arch = strcmp(tok[1], "SCMP_ARCH_X86") == 0 ? SCMP_ARCH_X86 : strcmp(tok[1], "SCMP_ARCH_X32") == 0 ? SCMP_ARCH_X32 : 0;
			if (!arch) { fprintf(stderr, "docker-bpf: unknown architecture %s\n", tok[1]); return 2; }
			int rc = seccomp_arch_add(ctx, arch);
			if (rc < 0 && rc != -EEXIST) { fprintf(stderr, "docker-bpf: seccomp_arch_add(%s): %s\n", tok[1], strerror(-rc)); return 1; }
			continue;
		}
		int nr = seccomp_syscall_resolve_name(tok[1]);
		if (nr == __NR_SCMP_ERROR) { skipped++; continue; }
		struct scmp_arg_cmp cmp[6];
		int nc = 0;
		for (int i = 2; i + 3 < n + 1 && nc < 6; i += 4) {
			cmp[nc].arg = (unsigned)atoi(tok[i]);
			cmp[nc].op = parse_op(tok[i + 1]);
			cmp[nc].datum_a = strtoull(tok[i + 2], NULL, 10);
			cmp[nc].datum_b = strtoull(tok[i + 3], NULL, 10);
			nc++;
		}
		int rc = seccomp_rule_add_array(ctx, parse_action(tok[0]), nr, (unsigned)nc, cmp);
		if (rc < 0) { fprintf(stderr, "docker-bpf: %s: seccomp_rule_add_array: %s\n", tok[1], strerror(-rc)); return 1; }
		rules++;
	}
	fclose(f);
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0) { perror(argv[2]); return 2; }
	int rc = seccomp_export_bpf(ctx, out);
	if (rc < 0) { fprintf(stderr, "docker-bpf: seccomp_export_bpf: %s\n", strerror(-rc)); return 1; }
	close(out);
	fprintf(stderr, "docker-bpf: %d rules, %d names unknown to libseccomp skipped\n", rules, skipped);
	seccomp_release(ctx);
	return 0;
}
