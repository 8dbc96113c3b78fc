// The unix-socket helper: a small process inside the sandbox that performs the agent's
// pathname unix connect and bind, so that no privileged process ever resolves a path the
// agent chose. Init forks it after the agent's world is built; it takes the agent's
// Landlock rules, drops every capability, sets no_new_privs, becomes non-dumpable (the
// agent cannot ptrace it or read its memory) and installs an allowlist seccomp filter.
// The kernel then resolves each path in the agent's own mount namespace, with the agent's
// credentials and Landlock domain: a symlink or rename swap can only lead to what the agent
// could reach itself.
//
// The supervisor side (`warden_unix_relay`) sends one request at a time over a SEQPACKET
// socketpair: the fixed-size request, the duplicate of the agent's socket and, for a
// relative path, the calling thread's working directory, all with SCM_RIGHTS.
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

struct unix_request {
    uint64_t id;
    int32_t kind;        ///< WARDEN_NET_CONNECT or WARDEN_NET_BIND
    uint32_t addrlen;
    struct sockaddr_un addr;
};

struct unix_reply {
    uint64_t id;
    int32_t result;      ///< 0 or -errno
    int32_t reserved;
};

#if defined(__x86_64__)
#define HELPER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HELPER_ARCH AUDIT_ARCH_AARCH64
#endif

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/// Only what the loop below calls; anything else kills the helper.
static int helper_filter(void) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HELPER_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        // x32 calls share x86_64's architecture with bit 30 of nr set: never equal below.
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(SYS_recvmsg), ALLOW(SYS_sendmsg), ALLOW(SYS_connect), ALLOW(SYS_bind),
        ALLOW(SYS_close), ALLOW(SYS_fchdir), ALLOW(SYS_getsockopt), ALLOW(SYS_exit),
        ALLOW(SYS_exit_group), ALLOW(SYS_rt_sigreturn), ALLOW(SYS_restart_syscall),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog prog = { (unsigned short)(sizeof code / sizeof code[0]), code };
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -errno : 0;
}

static int serve_one(int sock) {
    struct unix_request req;
    int fds[2] = { -1, -1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(2 * sizeof(int))]; } ctl;
    struct iovec iov = { &req, sizeof req };
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov; m.msg_iovlen = 1;
    m.msg_control = ctl.buf; m.msg_controllen = sizeof ctl.buf;
    ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    if (n == 0) return -1; // the supervisor is gone
    if (n < 0) return errno == EINTR ? 0 : -1;
    int nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (nfds < 2) fds[nfds++] = fd; else close(fd);
        }
    }
    struct unix_reply rep = { req.id, -EINVAL, 0 };
    int domain = 0;
    socklen_t dlen = sizeof domain;
    if ((size_t)n != sizeof req || nfds < 1 || (m.msg_flags & MSG_CTRUNC)) {
        rep.result = -EINVAL;
    } else if (getsockopt(fds[0], SOL_SOCKET, SO_DOMAIN, &domain, &dlen) < 0 || domain != AF_UNIX) {
        rep.result = -EAFNOSUPPORT; // only unix sockets are ever handled here
    } else if (req.addr.sun_family != AF_UNIX || req.addrlen <= offsetof(struct sockaddr_un, sun_path) ||
               req.addrlen > sizeof req.addr || req.addr.sun_path[0] == 0) {
        rep.result = -EINVAL; // pathname addresses only
    } else if (nfds == 2 && fchdir(fds[1]) < 0) {
        rep.result = -errno;
    } else {
        int r = req.kind == WARDEN_NET_BIND ? bind(fds[0], (struct sockaddr *)&req.addr, req.addrlen)
              : req.kind == WARDEN_NET_CONNECT ? connect(fds[0], (struct sockaddr *)&req.addr, req.addrlen)
              : (errno = EINVAL, -1);
        rep.result = r < 0 ? -errno : 0;
    }
    for (int i = 0; i < nfds; i++) close(fds[i]);
    struct iovec riov = { &rep, sizeof rep };
    struct msghdr rm;
    memset(&rm, 0, sizeof rm);
    rm.msg_iov = &riov; rm.msg_iovlen = 1;
    return sendmsg(sock, &rm, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

__attribute__((noreturn)) void warden_unix_helper_main(const struct warden_launch_spec *spec, int sock, int status_w) {
    int r, index = 0;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) _exit(125);
    int keep[2] = { sock, status_w };
    if (warden_close_all_except(keep, 2) < 0) _exit(125);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (spec->landlock_handled && (r = warden_apply_landlock(spec, &index)) < 0)
        warden_fail(status_w, WARDEN_STAGE_LANDLOCK, -r, index, 125);
    if (spec->apply_capabilities) {
        // Not the agent's capabilities: none at all.
        struct warden_launch_spec none = *spec;
        none.cap_bounding = none.cap_permitted = none.cap_effective = none.cap_inheritable = none.cap_ambient = 0;
        none.securebits = spec->securebits;
        int stage = WARDEN_STAGE_CAPABILITIES;
        if ((r = warden_apply_capabilities(&none, &stage, &index)) < 0) warden_fail(status_w, stage, -r, index, 125);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) warden_fail(status_w, WARDEN_STAGE_NO_NEW_PRIVS, errno, 0, 125);
    close(status_w);
    sigset_t none_blocked;
    sigemptyset(&none_blocked);
    sigprocmask(SIG_SETMASK, &none_blocked, NULL);
    if (helper_filter() < 0) _exit(125);
    while (serve_one(sock) == 0) {}
    syscall(SYS_exit_group, 0);
    __builtin_unreachable();
}

static pthread_mutex_t relay_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t relay_next_id = 1;

long warden_unix_relay(int helper, int kind, int sockfd, int cwdfd, const void *addr, uint32_t addrlen, int timeout_ms) {
    if (helper < 0) return -EACCES;
    if (addrlen > sizeof(struct sockaddr_un)) return -EINVAL;
    struct unix_request req;
    memset(&req, 0, sizeof req);
    req.kind = kind;
    req.addrlen = addrlen;
    memcpy(&req.addr, addr, addrlen);
    union { struct cmsghdr h; char buf[CMSG_SPACE(2 * sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    int fds[2] = { sockfd, cwdfd };
    int nfds = cwdfd >= 0 ? 2 : 1;
    struct iovec iov = { &req, sizeof req };
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov; m.msg_iovlen = 1;
    m.msg_control = ctl.buf; m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));

    pthread_mutex_lock(&relay_lock);
    req.id = relay_next_id++;
    long result;
    if (sendmsg(helper, &m, MSG_NOSIGNAL) < 0) {
        result = errno == EPIPE || errno == ECONNRESET ? -EACCES : -errno;
    } else {
        result = -ETIMEDOUT;
        for (;;) {
            struct pollfd p = { helper, POLLIN, 0 };
            int pr = poll(&p, 1, timeout_ms);
            if (pr < 0 && errno == EINTR) continue;
            if (pr <= 0) break; // the helper is stuck (a blocking connect): the caller gets ETIMEDOUT
            struct unix_reply rep;
            ssize_t n = recv(helper, &rep, sizeof rep, 0);
            if (n != (ssize_t)sizeof rep) { result = -EACCES; break; } // the helper died
            if (rep.id != req.id) continue; // a late answer to an earlier, timed-out request
            result = rep.result;
            break;
        }
    }
    pthread_mutex_unlock(&relay_lock);
    return result;
}
