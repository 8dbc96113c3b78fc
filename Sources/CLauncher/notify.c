// Supervisor-side helpers that Swift cannot express: variadic ioctl for seccomp user
// notification, SCM_RIGHTS, pidfd_open, signal forwarding, and capability probes.
#define _GNU_SOURCE
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

int warden_notif_recv(int listener, struct warden_notification *out) {
    struct seccomp_notif n;
    memset(&n, 0, sizeof n); // the kernel insists on a zeroed buffer
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) return -errno;
    out->id = n.id;
    out->pid = n.pid;
    out->nr = n.data.nr;
    out->arch = n.data.arch;
    out->instruction_pointer = n.data.instruction_pointer;
    for (int i = 0; i < 6; i++) out->args[i] = n.data.args[i];
    return 0;
}

int warden_notif_send(int listener, uint64_t id, int32_t error, int64_t value, int cont) {
    struct seccomp_notif_resp r;
    memset(&r, 0, sizeof r);
    r.id = id;
    if (cont) r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    else if (error) r.error = -error;
    else r.val = value;
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &r) < 0 ? -errno : 0;
}

// Linux 6.6's synchronous wake-up (headers may predate it): the kernel switches straight
// between the agent's thread and the supervisor's on one CPU instead of waking each other
// through the scheduler, which cuts a notification's round trip by several times.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int warden_notif_sync_wakeup(int listener) {
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0 ? -errno : 0;
}

int warden_notif_id_valid(int listener, uint64_t id) {
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 ? -errno : 0;
}

int warden_recv_fd(int sock) {
    char byte;
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov; msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf; msg.msg_controllen = sizeof ctl.buf;
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return -ENODATA;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return -EPROTO;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

int warden_pidfd_open(pid_t pid) {
    long r = syscall(SYS_pidfd_open, pid, 0);
    return r < 0 ? -errno : (int)r;
}

static volatile pid_t forward_target = 0;
static volatile int forward_wake_fd = -1;

static void forward_handler(int sig) {
    int saved = errno;
    pid_t t = forward_target;
    if (t > 0) kill(t, sig);
    int w = forward_wake_fd;
    if (w >= 0) { unsigned char b = (unsigned char)sig; if (write(w, &b, 1) < 0) {} }
    errno = saved;
}

void warden_forward_signals_wake(int fd) { forward_wake_fd = fd; }

// Stop signals during a run's set-up (see warden_hold_stop_signals_during_setup).
static volatile sig_atomic_t setup_started = 0;
static volatile sig_atomic_t setup_held = 0;

static void setup_handler(int sig) {
    if (!setup_started) {
        // Before run.start nothing is recorded yet: die by the signal, as without a handler.
        signal(sig, SIG_DFL);
        raise(sig);  // pending (blocked in this handler) until it returns
        return;
    }
    if (!setup_held) setup_held = sig;
}

void warden_hold_stop_signals_during_setup(void) {
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = setup_handler;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

void warden_setup_started(void) { setup_started = 1; }

int warden_take_held_stop_signal(void) {
    int sig = setup_held;
    setup_held = 0;
    return sig;
}

void warden_absorb_signals(void) {
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
    forward_target = 0;
}

void warden_forward_signals(pid_t target) {
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (target > 0) { forward_target = target; sa.sa_handler = forward_handler; }
    else { sa.sa_handler = SIG_DFL; }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
    if (target <= 0) forward_target = 0;
}

/// Runs `fn` in a fresh single-threaded child; returns its exit code or 255+signal.
static int in_child(int (*fn)(uint32_t), uint32_t arg) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(fn(arg));
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) return saved;
    int st;
    while (waitpid((pid_t)pid, &st, 0) < 0) if (errno != EINTR) return errno;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static int do_unshare(uint32_t ns) {
    int f = 0;
    if (ns & WARDEN_NS_USER) f |= CLONE_NEWUSER;
    if (ns & WARDEN_NS_MOUNT) f |= CLONE_NEWNS;
    if (ns & WARDEN_NS_PID) f |= CLONE_NEWPID;
    if (ns & WARDEN_NS_IPC) f |= CLONE_NEWIPC;
    if (ns & WARDEN_NS_UTS) f |= CLONE_NEWUTS;
    if (ns & WARDEN_NS_NET) f |= CLONE_NEWNET;
    if (ns & WARDEN_NS_CGROUP) f |= CLONE_NEWCGROUP;
    return unshare(f) < 0 ? errno : 0;
}

int warden_probe_unshare(uint32_t ns) { return in_child(do_unshare, ns); }

static int do_user_notif(uint32_t unused) {
    (void)unused;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { 4, f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog) < 0)
        return errno;
    return 0;
}

/// Whether this process runs under no seccomp filter at all (`Seccomp:\t0` in its status).
static int without_seccomp_filter(void) {
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n, got = 0;
    while (got < (ssize_t)sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0) got += n;
    close(fd);
    buf[got] = 0;
    const char *line = strstr(buf, "\nSeccomp:\t");
    return line != NULL && line[10] == '0' && line[11] == '\n';
}

/// Without any filter on this process, a listener can be refused only by a kernel without
/// user notification, which SECCOMP_GET_ACTION_AVAIL answers in place: no child to fork
/// from a large process on every launch. Under a filter (nested in another sandbox, which
/// may already hold a listener: EBUSY), the child really installs one.
int warden_probe_user_notif(void) {
    if (without_seccomp_filter()) {
        uint32_t action = SECCOMP_RET_USER_NOTIF;
        if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0) return 0;
    }
    return in_child(do_user_notif, 0);
}

int warden_probe_user_notif_in_child(void) { return in_child(do_user_notif, 0); }

/// Reads up to `cap` bytes of the agent's memory at `addr`, page by page, until a NUL;
/// returns the string's length, -ENAMETOOLONG without a NUL within `cap`, or -errno
/// (-EFAULT for an unmapped address). The string is a snapshot: the agent may change it
/// afterwards, so nothing may be decided on it (observing mode only records it).
int warden_read_cstring(pid_t tid, uint64_t addr, void *buf, size_t cap) {
    char *out = buf;
    size_t got = 0;
    while (got < cap) {
        uint64_t at = addr + got;
        size_t chunk = 4096 - (size_t)(at & 4095); // never crosses a page: a fault ends one chunk only
        if (chunk > cap - got) chunk = cap - got;
        struct iovec local = { out + got, chunk };
        struct iovec remote = { (void *)(uintptr_t)at, chunk };
        ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
        if (n < 0) return -errno;
        if (n == 0) return -EFAULT;
        char *nul = memchr(out + got, 0, (size_t)n);
        if (nul) return (int)(nul - out);
        got += (size_t)n;
        if ((size_t)n < chunk) return -EFAULT;
    }
    return -ENAMETOOLONG;
}

/// Reads exactly `len` bytes of the agent's memory; 0 or -errno (-EFAULT when short).
int warden_read_memory(pid_t tid, uint64_t addr, void *buf, size_t len) {
    struct iovec local = { buf, len };
    struct iovec remote = { (void *)(uintptr_t)addr, len };
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n < 0) return -errno;
    return (size_t)n == len ? 0 : -EFAULT;
}
