// Escape probes for the export tests: the same binary runs under `warden run` and inside an
// exported OCI bundle (runc), and the verdicts are compared. One line per check:
// "name=ok:N", "name=errno:N" or "name=signal:N" (the check ran in a child that died).
// argv[1] is the workspace (the only writable directory besides /tmp).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <termios.h>
#include <unistd.h>

static void report(const char *name, long rc) {
    if (rc < 0) printf("%s=errno:%d\n", name, errno);
    else printf("%s=ok:%ld\n", name, rc);
    fflush(stdout);
}

/* Runs fn in a child so a check that kills the process (SIGSYS) is reported, not fatal. */
static void isolated(const char *name, long (*fn)(void)) {
    int p[2];
    if (pipe(p) != 0) { report(name, -1); return; }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        errno = 0;
        long rc = fn();
        int e = errno;
        char buf[64];
        int n = rc < 0 ? snprintf(buf, sizeof buf, "errno:%d", e) : snprintf(buf, sizeof buf, "ok:%ld", rc);
        if (write(p[1], buf, n) < 0) _exit(3);
        _exit(0);
    }
    close(p[1]);
    char buf[64] = {0};
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) printf("%s=signal:%d\n", name, WTERMSIG(status));
    else if (n > 0) printf("%s=%s\n", name, buf);
    else printf("%s=exit:%d\n", name, WEXITSTATUS(status));
    fflush(stdout);
}

static long do_x32(void) { return syscall(0x40000000 | SYS_getpid); }
static long do_int80(void) {
    long ret;
    /* i386 getpid (20) through the 32-bit entry point. */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
    if (ret < 0 && ret > -4096) { errno = (int)-ret; return -1; }
    return 0;
}

static long read_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[64];
    long n = read(fd, buf, sizeof buf);
    int e = errno;
    close(fd);
    errno = e;
    return n;
}

static long write_file(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0) return -1;
    long n = write(fd, "#!/bin/sh\nexit 0\n", 17);
    int e = errno;
    close(fd);
    errno = e;
    return n;
}

static long run_program(const char *path) {
    pid_t pid = fork();
    if (pid == 0) { execl(path, path, (char *)NULL); _exit(100 + (errno & 0x7f)); }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) >= 100) { errno = WEXITSTATUS(status) - 100; return -1; }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static long copy_to(const char *from, const char *to) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (out < 0) { int e = errno; close(in); errno = e; return -1; }
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) if (write(out, buf, n) != n) { close(in); close(out); return -1; }
    close(in);
    close(out);
    return 0;
}

static void status_line(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) { report(key, -1); return; }
    char line[256];
    size_t len = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, len) && line[len] == ':') {
            char *v = line + len + 1;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = 0;
            printf("%s=%s\n", key, v);
        }
    }
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *ws = argv[1];
    char path[4096];

    status_line("CapInh"); status_line("CapPrm"); status_line("CapEff"); status_line("CapBnd"); status_line("CapAmb");
    status_line("NoNewPrivs"); status_line("Seccomp");

    report("ptrace_traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY; attr.key_size = 4; attr.value_size = 4; attr.max_entries = 1;
    report("bpf_map_create", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
    report("unshare_user", unshare(CLONE_NEWUSER));
    report("unshare_ns", unshare(CLONE_NEWNS));
    report("clone_newuser", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
    report("clone3", syscall(SYS_clone3, NULL, 0));
    report("setns", setns(0, 0));
    report("mount_tmpfs", mount("none", "/tmp", "tmpfs", 0, NULL));
    report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
    report("userfaultfd", syscall(SYS_userfaultfd, 0));
    report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    report("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
    report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    report("init_module", syscall(SYS_init_module, NULL, 0, ""));
    report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
    char c = 'x';
    report("tiocsti", ioctl(0, TIOCSTI, &c));
    report("chroot", chroot("/"));
    report("setuid_1", setuid(1));
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    report("socket_inet", s);
    if (s >= 0) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
        a.sin_addr.s_addr = htonl(0x01010101);
        report("connect_outside", connect(s, (struct sockaddr *)&a, sizeof a));
        close(s);
    }
    int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (b >= 0) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
        report("bind_port_80", bind(b, (struct sockaddr *)&a, sizeof a));
        close(b);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) printf("rlimit_nofile=%llu/%llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    if (getrlimit(RLIMIT_CORE, &rl) == 0) printf("rlimit_core=%llu/%llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
#if defined(__x86_64__)
    isolated("x32_getpid", do_x32);
    isolated("i386_int80", do_int80);
#endif

    /* Filesystem: reads outside the allowed paths, masked files, writes, exec. */
    report("read_etc_passwd", read_file("/etc/passwd"));
    report("read_etc_shadow", read_file("/etc/shadow"));
    report("read_root_home", read_file("/root/.bashrc"));
    report("read_var_log", read_file("/var/log/dpkg.log"));
    report("read_proc_self", read_file("/proc/self/stat") > 0 ? 1 : -1);
    snprintf(path, sizeof path, "%s/allowed.txt", ws);
    report("write_workspace", write_file(path));
    snprintf(path, sizeof path, "%s/.git/hooks/pre-commit", ws);
    report("write_git_hooks", write_file(path));
    snprintf(path, sizeof path, "%s/.git/config", ws);
    report("write_git_config", write_file(path));
    report("write_usr", write_file("/usr/warden-probe"));
    report("write_etc", write_file("/etc/warden-probe"));
    /* ${tmp} is $TMPDIR: /tmp in the container, a per-run directory under `warden run`. */
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/warden-probe", tmp);
    report("write_tmpdir", write_file(path));
    /* Exec: a copy of /bin/true in the workspace (exec allowed) and in $TMPDIR (not allowed). */
    snprintf(path, sizeof path, "%s/true-copy", ws);
    report("exec_workspace", copy_to("/bin/true", path) == 0 ? run_program(path) : -1);
    snprintf(path, sizeof path, "%s/true-copy", tmp);
    report("copy_to_tmpdir", copy_to("/bin/true", path));
    report("exec_tmpdir", run_program(path));
    report("exec_usr", run_program("/bin/true"));
    return 0;
}
