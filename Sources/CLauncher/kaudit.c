// The kernel audit subsystem's status (AUDIT_GET over NETLINK_AUDIT), for `warden doctor`:
// whether the kernel would emit Landlock's denial records (type 1423) at all.
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launcher.h"

static int audit_get(struct audit_status *out);

int warden_kernel_audit_enabled(void) {
    struct audit_status st;
    int r = audit_get(&st);
    return r < 0 ? r : (st.enabled ? 1 : 0);
}

long long warden_kernel_audit_lost(void) {
    struct audit_status st;
    int r = audit_get(&st);
    return r < 0 ? r : (long long)st.lost;
}

static int audit_get(struct audit_status *out) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (s < 0) return -errno;
    struct {
        struct nlmsghdr h;
        struct audit_status st;
    } m;
    memset(&m, 0, sizeof m);
    m.h.nlmsg_len = sizeof m;
    m.h.nlmsg_type = AUDIT_GET;
    m.h.nlmsg_flags = NLM_F_REQUEST;
    m.h.nlmsg_seq = 1;
    struct sockaddr_nl to = { .nl_family = AF_NETLINK };
    int r = -EIO;
    if (sendto(s, &m, sizeof m, 0, (struct sockaddr *)&to, sizeof to) < 0) { r = -errno; goto out; }
    // Bounded: at most a few replies, each within 1 s.
    for (int i = 0; i < 4; i++) {
        struct pollfd p = { s, POLLIN, 0 };
        if (poll(&p, 1, 1000) <= 0) { r = -ETIMEDOUT; goto out; }
        union { char bytes[1024]; struct nlmsghdr h; } buf;
        ssize_t n = recv(s, buf.bytes, sizeof buf.bytes, 0);
        if (n < 0) { r = -errno; goto out; }
        if ((size_t)n < NLMSG_HDRLEN || !NLMSG_OK(&buf.h, (unsigned)n)) continue;
        if (buf.h.nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *e = NLMSG_DATA(&buf.h);
            if (buf.h.nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error) { r = e->error; goto out; }
            continue;
        }
        if (buf.h.nlmsg_type == AUDIT_GET && buf.h.nlmsg_len >= NLMSG_LENGTH(sizeof(uint32_t) * 2)) {
            memset(out, 0, sizeof *out);
            size_t len = buf.h.nlmsg_len - NLMSG_HDRLEN;
            memcpy(out, NLMSG_DATA(&buf.h), len < sizeof *out ? len : sizeof *out);
            r = 0;
            goto out;
        }
    }
out:
    close(s);
    return r;
}

int warden_kaudit_set_enabled(int on) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (s < 0) return -errno;
    struct {
        struct nlmsghdr h;
        struct audit_status st;
    } m;
    memset(&m, 0, sizeof m);
    m.h.nlmsg_len = sizeof m;
    m.h.nlmsg_type = AUDIT_SET;
    m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    m.h.nlmsg_seq = 1;
    m.st.mask = AUDIT_STATUS_ENABLED;
    m.st.enabled = on ? 1 : 0;
    struct sockaddr_nl to = { .nl_family = AF_NETLINK };
    int r = -ETIMEDOUT;
    if (sendto(s, &m, sizeof m, 0, (struct sockaddr *)&to, sizeof to) < 0) { r = -errno; goto out; }
    for (int i = 0; i < 4; i++) {
        struct pollfd p = { s, POLLIN, 0 };
        if (poll(&p, 1, 1000) <= 0) break;
        union { char bytes[1024]; struct nlmsghdr h; } buf;
        ssize_t n = recv(s, buf.bytes, sizeof buf.bytes, 0);
        if (n < 0) { r = -errno; goto out; }
        if ((size_t)n >= NLMSG_HDRLEN && NLMSG_OK(&buf.h, (unsigned)n) && buf.h.nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *e = NLMSG_DATA(&buf.h);
            r = e->error;
            goto out;
        }
    }
out:
    close(s);
    return r;
}

int warden_kaudit_open_readlog(void) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
    if (s < 0) return -errno;
    struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = AUDIT_NLGRP_READLOG };
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(s);
        return -e;
    }
    // A burst of denials must not be lost to a small socket buffer (best effort: the
    // kernel caps it at rmem_max unless SO_RCVBUFFORCE is allowed).
    int size = 4 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        (void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return s;
}

int warden_kaudit_recv(int fd, char *buf, size_t cap, int timeout_ms, int *type) {
    *type = 0;
    struct pollfd p = { fd, POLLIN, 0 };
    int pr = poll(&p, 1, timeout_ms);
    if (pr < 0) return errno == EINTR ? 0 : -errno;
    if (pr == 0) return 0;
    union { char bytes[9000]; struct nlmsghdr h; } m;
    ssize_t n = recv(fd, m.bytes, sizeof m.bytes, MSG_DONTWAIT);
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    if ((size_t)n < NLMSG_HDRLEN || !NLMSG_OK(&m.h, (unsigned)n)) return 0;
    size_t len = m.h.nlmsg_len - NLMSG_HDRLEN;
    if (len > cap) len = cap;
    memcpy(buf, NLMSG_DATA(&m.h), len);
    *type = m.h.nlmsg_type;
    return (int)len;
}
