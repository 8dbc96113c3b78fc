/* Interleaved wall-clock timing of whole commands, for `make bench`.
 *
 *   runner ROUNDS SEED SPEC OUT
 *
 * SPEC has one variant per line: NAME<TAB>ARG0<TAB>ARG1...  Every round runs each
 * variant once, in a fresh random order (seeded), so machine noise hits all variants
 * alike; one unrecorded warm-up round comes first. Each run is posix_spawn + waitpid,
 * timed with CLOCK_MONOTONIC; the child's stdout goes to /dev/null, stderr to the
 * runner's stderr. OUT gets NAME<TAB>ROUND<TAB>WALL_NS<TAB>STATUS<TAB>CPU_NS per run, where
 * CPU_NS is user + system time of the child and every descendant it waited for (wait4's
 * rusage): unlike wall time, it barely moves when other work competes for the cores.
 * Exit status 1 if any run did not exit 0 (the first failure is named on stderr).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_VARIANTS 64
#define MAX_ARGS 128

struct variant {
	char *name;
	char *argv[MAX_ARGS + 1];
};

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int load(const char *path, struct variant *v) {
	FILE *f = fopen(path, "r");
	if (!f) { perror(path); exit(2); }
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (!*line || *line == '#') continue;
		if (n == MAX_VARIANTS) { fprintf(stderr, "runner: too many variants\n"); exit(2); }
		char *save = NULL, *tok = strtok_r(strdup(line), "\t", &save);
		v[n].name = tok;
		int a = 0;
		while ((tok = strtok_r(NULL, "\t", &save)) && a < MAX_ARGS) v[n].argv[a++] = tok;
		v[n].argv[a] = NULL;
		if (a == 0) { fprintf(stderr, "runner: variant %s has no command\n", v[n].name); exit(2); }
		n++;
	}
	fclose(f);
	return n;
}

static int run(struct variant *v, uint64_t *ns, uint64_t *cpu) {
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	uint64_t t0 = now_ns();
	int rc = posix_spawn(&pid, v->argv[0], &fa, NULL, v->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) { fprintf(stderr, "runner: %s: cannot spawn %s: %s\n", v->name, v->argv[0], strerror(rc)); return -1; }
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {}
	*ns = now_ns() - t0;
	*cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
	return status;
}

int main(int argc, char **argv) {
	if (argc != 5) { fprintf(stderr, "usage: runner ROUNDS SEED SPEC OUT\n"); return 2; }
	int rounds = atoi(argv[1]);
	srandom((unsigned)strtoul(argv[2], NULL, 10));
	static struct variant v[MAX_VARIANTS];
	int n = load(argv[3], v);
	FILE *out = fopen(argv[4], "w");
	if (!out) { perror(argv[4]); return 2; }
	int failed = 0;
	int order[MAX_VARIANTS];
	for (int r = 0; r <= rounds; r++) {
		for (int i = 0; i < n; i++) order[i] = i;
		for (int i = n - 1; i > 0; i--) { int j = (int)(random() % (i + 1)); int t = order[i]; order[i] = order[j]; order[j] = t; }
		for (int i = 0; i < n; i++) {
			struct variant *x = &v[order[i]];
			uint64_t ns = 0, cpu = 0;
			int status = run(x, &ns, &cpu);
			if (status != 0 && !failed) {
				fprintf(stderr, "runner: %s exited with status 0x%x\n", x->name, status);
				failed = 1;
			}
			if (r > 0) fprintf(out, "%s\t%d\t%llu\t%d\t%llu\n", x->name, r, (unsigned long long)ns, status, (unsigned long long)cpu);
		}
	}
	fclose(out);
	return failed;
}
