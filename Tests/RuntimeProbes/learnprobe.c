// An agent for the observing-mode (warden learn) tests. Each mode prints one line per
// attempt: "<what> ok" or "<what> errno=<n>".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void report(const char *what, int rc) {
    if (rc < 0) printf("%s errno=%d\n", what, errno); else printf("%s ok\n", what);
    fflush(stdout);
}

static int open_close(int dir, const char *path, int flags) {
    int fd = dir == AT_FDCWD ? open(path, flags, 0644) : openat(dir, path, flags, 0644);
    if (fd >= 0) { if (flags & (O_WRONLY | O_RDWR)) { if (write(fd, "changed", 7) < 0) {} } close(fd); }
    return fd;
}

// The racing path: flipped between two strings of the same length by another thread.
static char race_buffer[4096];
static const char *race_a, *race_b;
static atomic_int race_stop;

static void *flip(void *unused) {
    (void)unused;
    size_t n = strlen(race_a) + 1;
    while (!atomic_load(&race_stop)) {
        memcpy(race_buffer, race_a, n);
        memcpy(race_buffer, race_b, n);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "read") && argc == 3) { report("read", open_close(AT_FDCWD, argv[2], O_RDONLY)); return 0; }
    if (!strcmp(mode, "write") && argc == 3) {
        report("write", open_close(AT_FDCWD, argv[2], O_WRONLY | O_CREAT | O_TRUNC)); return 0;
    }
    if (!strcmp(mode, "mkdir") && argc == 3) { report("mkdir", mkdir(argv[2], 0755)); return 0; }
    if (!strcmp(mode, "dirfd-write") && argc == 4) {
        int dir = open(argv[2], O_PATH | O_DIRECTORY);
        if (dir < 0) { report("dirfd", -1); return 1; }
        report("dirfd-write", open_close(dir, argv[3], O_WRONLY | O_CREAT | O_TRUNC));
        return 0;
    }
    if (!strcmp(mode, "cwd-write") && argc == 4) {
        if (chdir(argv[2]) < 0) { report("chdir", -1); return 1; }
        report("cwd-write", open_close(AT_FDCWD, argv[3], O_WRONLY | O_CREAT | O_TRUNC));
        return 0;
    }
    if (!strcmp(mode, "flood") && argc == 4) {
        long n = atol(argv[3]);
        char path[4096];
        struct stat st;
        long found = 0;
        for (long i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/%ld", argv[2], i);
            if (stat(path, &st) == 0) found++;
        }
        printf("flood done %ld found\n", found);
        return 0;
    }
    if (!strcmp(mode, "race") && argc == 5) {
        race_a = argv[2]; race_b = argv[3];
        if (strlen(race_a) != strlen(race_b)) return 2;
        long n = atol(argv[4]);
        memcpy(race_buffer, race_a, strlen(race_a) + 1);
        pthread_t t;
        pthread_create(&t, NULL, flip, NULL);
        long opened = 0;
        for (long i = 0; i < n; i++) {
            int fd = open(race_buffer, O_WRONLY | O_APPEND);
            if (fd >= 0) { if (write(fd, "x", 1) < 0) {} close(fd); opened++; }
        }
        atomic_store(&race_stop, 1);
        pthread_join(t, NULL);
        printf("race done %ld opened\n", opened);
        return 0;
    }
    return 2;
}
