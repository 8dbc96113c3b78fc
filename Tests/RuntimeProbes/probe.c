// One probe binary, many checks: argv[1] names the check; results go to stdout as
// "key=value" lines the tests parse.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int result(const char *key, long rc) {
    if (rc < 0) printf("%s=errno:%d\n", key, errno);
    else printf("%s=ok:%ld\n", key, rc);
    return 0;
}

static int read_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    int saved = errno;
    close(fd);
    errno = saved;
    return (int)n;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *what = argv[1];
    if (!strcmp(what, "fds")) {
        DIR *d = opendir("/proc/self/fd");
        if (!d) return result("fds", -1);
        struct dirent *e;
        printf("fds=");
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
            printf("%s,", e->d_name);
        }
        printf("\n");
        closedir(d);
    } else if (!strcmp(what, "session")) {
        printf("sid_is_pid=%d\n", getsid(0) == getpid());
        result("tty", open("/dev/tty", O_RDWR));
    } else if (!strcmp(what, "pid")) {
        printf("pid=%d\n", getpid());
        result("kill", kill(atoi(argv[2]), 0));
    } else if (!strcmp(what, "connect")) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        result("connect", connect(s, (struct sockaddr *)&a, sizeof a));
    } else if (!strcmp(what, "read")) {
        for (int i = 2; i < argc; i++) { char k[16]; snprintf(k, sizeof k, "read%d", i - 2); result(k, read_file(argv[i])); }
    } else if (!strcmp(what, "write")) {
        for (int i = 2; i < argc; i++) {
            char k[16]; snprintf(k, sizeof k, "write%d", i - 2);
            int fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
            result(k, fd < 0 ? -1 : write(fd, "x", 1));
        }
    } else if (!strcmp(what, "status")) {
        FILE *f = fopen("/proc/self/status", "r");
        if (!f) return result("status", -1);
        char line[256];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp:", 8)) {
                char *c = strchr(line, ':'); *c = '=';
                char *v = c + 1; while (*v == '\t' || *v == ' ') memmove(v, v + 1, strlen(v));
                fputs(line, stdout);
            }
        fclose(f);
        result("chown", chown(argv[2], 1, 1));
        result("mount", mount("none", argv[3], "tmpfs", 0, NULL));
        result("securebits", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    } else if (!strcmp(what, "rlimit")) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        printf("nofile=%llu/%llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    } else if (!strcmp(what, "seccomp")) {
        result("getppid", syscall(SYS_getppid));
        result("prctl", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    } else {
        return 2;
    }
    return 0;
}
