// Network mediation helpers for the supervisor: fetch a mediated socket call of the agent
// (its socket, with pidfd_getfd, and its pointer arguments, copied ONCE), then perform the
// call on the duplicate with the copied arguments. The kernel never re-reads the agent's
// memory for a mediated call, so a racing thread cannot change what was decided.
#define _GNU_SOURCE
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

enum { MAX_DATA = 1 << 20, MAX_CONTROL = 4096, MAX_IOV = 1024 };

/// Reads exactly `len` bytes of the agent's memory; 0 or -errno (EFAULT when short).
static int read_mem(pid_t tid, uint64_t addr, void *buf, size_t len) {
    if (len == 0) return 0;
    struct iovec local = { buf, len };
    struct iovec remote = { (void *)(uintptr_t)addr, len };
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n < 0) return -errno;
    return (size_t)n == len ? 0 : -EFAULT;
}

int warden_net_write_mem(pid_t tid, uint64_t addr, const void *buf, size_t len) {
    struct iovec local = { (void *)buf, len };
    struct iovec remote = { (void *)(uintptr_t)addr, len };
    ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
    if (n < 0) return -errno;
    return (size_t)n == len ? 0 : -EFAULT;
}

static int open_pidfd(pid_t tid) {
    long r = syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
    if (r < 0 && errno == EINVAL) r = syscall(SYS_pidfd_open, tid, 0);
    return r < 0 ? -errno : (int)r;
}

static int get_fd(int pidfd, int fd) {
    long r = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    return r < 0 ? -errno : (int)r;
}

/// Copies an address argument (at most sizeof(struct sockaddr_storage) bytes are meaningful).
static int copy_addr(pid_t tid, uint64_t ptr, uint64_t len, struct warden_net_request *r) {
    if (ptr == 0) { r->addrlen = 0; r->has_addr = 0; return 0; }
    if (len > sizeof r->addr) len = sizeof r->addr; // the kernel rejects longer ones anyway
    int e = read_mem(tid, ptr, r->addr, (size_t)len);
    if (e < 0) return e;
    r->addrlen = (uint32_t)len;
    r->has_addr = 1;
    return 0;
}

/// Copies a struct msghdr of the agent and everything it points at.
static int copy_msghdr(pid_t tid, uint64_t ptr, struct warden_net_request *r) {
    struct msghdr m;
    int e = read_mem(tid, ptr, &m, sizeof m);
    if (e < 0) return e;
    e = copy_addr(tid, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen, r);
    if (e < 0) return e;
    if (m.msg_iovlen > MAX_IOV) return -EMSGSIZE;
    struct iovec *iov = NULL;
    if (m.msg_iovlen > 0) {
        iov = calloc(m.msg_iovlen, sizeof *iov);
        if (!iov) return -ENOMEM;
        e = read_mem(tid, (uint64_t)(uintptr_t)m.msg_iov, iov, m.msg_iovlen * sizeof *iov);
        if (e < 0) { free(iov); return e; }
    }
    size_t total = 0;
    for (size_t i = 0; i < m.msg_iovlen; i++) {
        if (iov[i].iov_len > MAX_DATA - total) { iov[i].iov_len = MAX_DATA - total; }
        total += iov[i].iov_len;
    }
    r->data = malloc(total ? total : 1);
    if (!r->data) { free(iov); return -ENOMEM; }
    size_t off = 0;
    for (size_t i = 0; i < m.msg_iovlen && off < total; i++) {
        e = read_mem(tid, (uint64_t)(uintptr_t)iov[i].iov_base, r->data + off, iov[i].iov_len);
        if (e < 0) { free(iov); return e; }
        off += iov[i].iov_len;
    }
    free(iov);
    r->datalen = total;
    if (m.msg_control && m.msg_controllen > 0) {
        if (m.msg_controllen > MAX_CONTROL) return -ENOBUFS;
        r->control = malloc(m.msg_controllen);
        if (!r->control) return -ENOMEM;
        e = read_mem(tid, (uint64_t)(uintptr_t)m.msg_control, r->control, m.msg_controllen);
        if (e < 0) return e;
        r->controllen = m.msg_controllen;
    }
    return 0;
}

int warden_net_fetch(int listener, uint64_t id, pid_t tid, int kind, const uint64_t args[6],
                     struct warden_net_request *r) {
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->pidfd = -1;
    r->kind = kind;
    r->tid = tid;
    int e = open_pidfd(tid);
    if (e < 0) return e;
    r->pidfd = e;
    int agent_fd = (int)(uint32_t)args[0];
    e = get_fd(r->pidfd, agent_fd);
    if (e < 0) return e == -EBADF ? -EBADF : e;
    r->fd = e;
    socklen_t l = sizeof(int);
    if (getsockopt(r->fd, SOL_SOCKET, SO_DOMAIN, &r->domain, &l) < 0) return errno == ENOTSOCK ? -ENOTSOCK : -errno;
    l = sizeof(int);
    if (getsockopt(r->fd, SOL_SOCKET, SO_TYPE, &r->type, &l) < 0) return -errno;
    l = sizeof(int);
    if (getsockopt(r->fd, SOL_SOCKET, SO_PROTOCOL, &r->protocol, &l) < 0) r->protocol = 0;
    int fl = fcntl(r->fd, F_GETFL);
    r->nonblocking = fl >= 0 && (fl & O_NONBLOCK);
    switch (kind) {
    case WARDEN_NET_CONNECT:
    case WARDEN_NET_BIND:
        e = copy_addr(tid, args[1], (uint32_t)args[2], r);
        if (e == 0 && !r->has_addr) e = -EFAULT;
        break;
    case WARDEN_NET_LISTEN:
        r->backlog = (int)(uint32_t)args[1];
        break;
    case WARDEN_NET_SENDTO: {
        r->flags = (int)(uint32_t)args[3];
        size_t len = args[2] > MAX_DATA ? MAX_DATA : (size_t)args[2];
        r->data = malloc(len ? len : 1);
        if (!r->data) return -ENOMEM;
        e = read_mem(tid, args[1], r->data, len);
        r->datalen = len;
        if (e == 0) e = copy_addr(tid, args[4], (uint32_t)args[5], r);
        break;
    }
    case WARDEN_NET_SENDMSG:
        r->flags = (int)(uint32_t)args[2];
        e = copy_msghdr(tid, args[1], r);
        break;
    case WARDEN_NET_SENDMMSG:
        // Only the first message is sent (a short count is legal; callers send the rest).
        r->flags = (int)(uint32_t)args[3];
        r->mmsg_len_addr = args[1] + sizeof(struct msghdr);
        e = (uint32_t)args[2] == 0 ? -EINVAL : copy_msghdr(tid, args[1], r);
        break;
    default:
        e = -EINVAL;
    }
    if (r->flags & MSG_DONTWAIT) r->nonblocking = 1;
    if (e < 0) return e;
    // Everything is copied: from here on nothing of the agent's memory is read again. The
    // notification must still be pending, so `tid` was the caller all along.
    e = warden_notif_id_valid(listener, id);
    return e < 0 ? e : 0;
}

void warden_net_release(struct warden_net_request *r) {
    if (r->fd >= 0) close(r->fd);
    if (r->pidfd >= 0) close(r->pidfd);
    free(r->data);
    free(r->control);
    r->fd = r->pidfd = -1;
    r->data = r->control = NULL;
}

/// Replaces the agent's descriptor numbers in SCM_RIGHTS with duplicates in the supervisor;
/// refuses SCM_CREDENTIALS (the supervisor's credentials are not the agent's).
static int translate_control(struct warden_net_request *r, int *dups, int *ndups, int maxdups) {
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_control = r->control;
    m.msg_controllen = r->controllen;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        // The lengths come from the agent: each header must lie within the buffer.
        size_t offset = (size_t)((uint8_t *)c - r->control);
        if (c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > r->controllen - offset) return -EINVAL;
        // Source routing in ancillary data would route past the decided destination.
        if ((r->domain == AF_INET || r->domain == AF_INET6) &&
            ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RETOPTS) ||
             (c->cmsg_level == SOL_IPV6 && (c->cmsg_type == IPV6_RTHDR || c->cmsg_type == IPV6_2292RTHDR ||
                                            c->cmsg_type == IPV6_2292PKTOPTIONS))))
            return -EACCES;
        if (c->cmsg_level != SOL_SOCKET) continue;
        if (c->cmsg_type == SCM_CREDENTIALS) return -EPERM;
        if (c->cmsg_type != SCM_RIGHTS) continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int *fds = (int *)CMSG_DATA(c);
        for (size_t i = 0; i < n; i++) {
            if (*ndups >= maxdups) return -ETOOMANYREFS;
            int d = get_fd(r->pidfd, fds[i]);
            if (d < 0) return d;
            dups[(*ndups)++] = d;
            fds[i] = d;
        }
    }
    return 0;
}

long warden_net_perform(struct warden_net_request *r) {
    const void *addr = r->has_addr ? (const void *)r->addr : NULL;
    socklen_t addrlen = r->has_addr ? r->addrlen : 0;
    if (r->has_addr && r->domain == AF_UNIX && addrlen > offsetof(struct sockaddr_un, sun_path)
        && ((struct sockaddr_un *)r->addr)->sun_path[0] != 0) {
        // Never here: a pathname is resolved only by the in-sandbox helper (unix_helper.c).
        return -EACCES;
    }
    long result;
    switch (r->kind) {
    case WARDEN_NET_CONNECT:
        result = connect(r->fd, addr, addrlen) < 0 ? -errno : 0;
        break;
    case WARDEN_NET_BIND:
        result = bind(r->fd, addr, addrlen) < 0 ? -errno : 0;
        break;
    case WARDEN_NET_LISTEN:
        result = listen(r->fd, r->backlog) < 0 ? -errno : 0;
        break;
    default: {
        int dups[253];
        int ndups = 0;
        struct iovec iov = { r->data, r->datalen };
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_name = (void *)addr;
        m.msg_namelen = addrlen;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = r->control;
        m.msg_controllen = r->controllen;
        result = r->control ? translate_control(r, dups, &ndups, 253) : 0;
        if (result == 0) {
            ssize_t n = sendmsg(r->fd, &m, r->flags | MSG_NOSIGNAL);
            result = n < 0 ? -errno : n;
            // The agent asked for SIGPIPE unless it passed MSG_NOSIGNAL.
            if (result == -EPIPE && !(r->flags & MSG_NOSIGNAL)) syscall(SYS_pidfd_send_signal, r->pidfd, SIGPIPE, NULL, 0);
        }
        for (int i = 0; i < ndups; i++) close(dups[i]);
        if (result >= 0 && r->kind == WARDEN_NET_SENDMMSG) {
            unsigned int len = (unsigned int)result;
            (void)warden_net_write_mem(r->tid, r->mmsg_len_addr, &len, sizeof len);
            result = 1;
        }
    }
    }
    return result;
}

int warden_net_reuseaddr(int listener, uint64_t id, pid_t tid, const uint64_t args[6]) {
    int pidfd = open_pidfd(tid);
    if (pidfd < 0) return pidfd;
    int fd = get_fd(pidfd, (int)(uint32_t)args[0]);
    close(pidfd);
    if (fd < 0) return fd;
    int type = 0, value = 0, e = 0;
    socklen_t l = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0) e = errno == ENOTSOCK ? -ENOTSOCK : -errno;
    else if ((uint32_t)args[4] < sizeof value) e = -EINVAL;
    else e = read_mem(tid, args[3], &value, sizeof value);
    // Copied: the agent's memory is not read again; the caller must still be waiting.
    if (e == 0) e = warden_notif_id_valid(listener, id);
    if (e == 0 && type != SOCK_STREAM) e = -EACCES;
    if (e == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &value, sizeof value) < 0) e = -errno;
    close(fd);
    return e;
}
