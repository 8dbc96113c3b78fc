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

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/// Sends one request with NLM_F_ACK and waits for the ack: 0 or -errno.
static int audit_request(int type, const void *payload, size_t len) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (s < 0) return -errno;
    size_t total = NLMSG_SPACE(len);
    char *m = calloc(1, total);
    if (!m) { close(s); return -ENOMEM; }
    struct nlmsghdr *h = (struct nlmsghdr *)m;
    h->nlmsg_len = (uint32_t)NLMSG_LENGTH(len);
    h->nlmsg_type = (uint16_t)type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    h->nlmsg_seq = 1;
    memcpy(NLMSG_DATA(h), payload, len);
    struct sockaddr_nl to = { .nl_family = AF_NETLINK };
    int r = -ETIMEDOUT;
    if (sendto(s, m, h->nlmsg_len, 0, (struct sockaddr *)&to, sizeof to) < 0) { r = -errno; goto out; }
    for (int i = 0; i < 4; i++) {
        struct pollfd p = { s, POLLIN, 0 };
        if (poll(&p, 1, 1000) <= 0) break;
        union { char bytes[2048]; struct nlmsghdr h; } buf;
        ssize_t n = recv(s, buf.bytes, sizeof buf.bytes, 0);
        if (n < 0) { r = -errno; goto out; }
        if ((size_t)n >= NLMSG_HDRLEN && NLMSG_OK(&buf.h, (unsigned)n) && buf.h.nlmsg_type == NLMSG_ERROR) {
            r = ((struct nlmsgerr *)NLMSG_DATA(&buf.h))->error;
            goto out;
        }
    }
out:
    free(m);
    close(s);
    return r;
}

int warden_kaudit_exit_rule(int add, uint32_t arch, uint32_t auid, int32_t exit_value,
                            const int32_t *syscalls, size_t count, const char *key) {
    size_t keylen = strlen(key);
    if (keylen == 0 || keylen > AUDIT_MAX_KEY_LEN) return -EINVAL;
    size_t len = sizeof(struct audit_rule_data) + keylen;
    struct audit_rule_data *d = calloc(1, len);
    if (!d) return -ENOMEM;
    d->flags = AUDIT_FILTER_EXIT;
    d->action = AUDIT_ALWAYS;
    for (size_t i = 0; i < count; i++) {
        int nr = syscalls[i];
        if (nr < 0 || nr >= AUDIT_BITMASK_SIZE * 32) continue;
        d->mask[AUDIT_WORD(nr)] |= AUDIT_BIT(nr);
    }
    uint32_t f = 0;
    d->fields[f] = AUDIT_ARCH; d->fieldflags[f] = AUDIT_EQUAL; d->values[f++] = arch;
    d->fields[f] = AUDIT_LOGINUID; d->fieldflags[f] = AUDIT_EQUAL; d->values[f++] = auid;
    d->fields[f] = AUDIT_EXIT; d->fieldflags[f] = AUDIT_EQUAL; d->values[f++] = (uint32_t)exit_value;
    d->fields[f] = AUDIT_FILTERKEY; d->fieldflags[f] = AUDIT_EQUAL; d->values[f++] = (uint32_t)keylen;
    d->field_count = f;
    d->buflen = (uint32_t)keylen;
    memcpy(d->buf, key, keylen);
    int r = audit_request(add ? AUDIT_ADD_RULE : AUDIT_DEL_RULE, d, len);
    free(d);
    return r;
}

static int rules_with_prefix(const char *prefix, int delete_stale);

/// Alive: exists and is not a zombie (a killed supervisor may wait long for its reaper).
static int process_alive(pid_t pid) {
    if (kill(pid, 0) < 0 && errno == ESRCH) return 0;
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno != ENOENT;
    ssize_t n = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0) return 1;
    stat[n] = 0;
    char *close_paren = strrchr(stat, ')');
    return !(close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z');
}

int warden_kaudit_delete_stale(const char *prefix) { return rules_with_prefix(prefix, 1); }

int warden_kaudit_count_rules(const char *prefix) { return rules_with_prefix(prefix, 0); }

/// Lists the rules whose key starts with `prefix`: counts them, or (delete_stale) deletes
/// those whose key names a supervisor pid that is gone and returns how many.
static int rules_with_prefix(const char *prefix, int delete_stale) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (s < 0) return -errno;
    struct nlmsghdr req = { .nlmsg_len = NLMSG_LENGTH(0), .nlmsg_type = AUDIT_LIST_RULES,
                            .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 };
    struct sockaddr_nl to = { .nl_family = AF_NETLINK };
    if (sendto(s, &req, req.nlmsg_len, 0, (struct sockaddr *)&to, sizeof to) < 0) { int e = errno; close(s); return -e; }
    // Collect (bounded) first: deleting while the kernel lists is not allowed to interleave.
    enum { MAX_STALE = 64 };
    struct audit_rule_data *stale[MAX_STALE];
    size_t stale_len[MAX_STALE];
    int n_stale = 0, done = 0;
    size_t plen = strlen(prefix);
    union rbuf { char bytes[65536]; struct nlmsghdr h; };
    union rbuf *bufp = malloc(sizeof *bufp);
    if (!bufp) { close(s); return -ENOMEM; }
    while (!done) {
        struct pollfd p = { s, POLLIN, 0 };
        if (poll(&p, 1, 1000) <= 0) break;
        ssize_t n = recv(s, bufp->bytes, sizeof bufp->bytes, 0);
        if (n <= 0) break;
        int left = (int)n;
        for (struct nlmsghdr *h = &bufp->h; NLMSG_OK(h, (unsigned)left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
            if (h->nlmsg_type != AUDIT_LIST_RULES) continue;
            size_t len = h->nlmsg_len - NLMSG_HDRLEN;
            struct audit_rule_data *d = NLMSG_DATA(h);
            if (len < sizeof *d || d->buflen > len - sizeof *d || d->buflen < plen) continue;
            if (memcmp(d->buf, prefix, plen) != 0) continue;
            if (!delete_stale) { n_stale++; continue; }
            if (d->buflen == plen) continue;
            char pidtext[32] = { 0 };
            size_t digits = d->buflen - plen;
            if (digits >= sizeof pidtext) continue;
            memcpy(pidtext, d->buf + plen, digits);
            char *end = NULL;
            long pid = strtol(pidtext, &end, 10);
            if (!end || *end != ':' || pid <= 0) continue;
            if (process_alive((pid_t)pid)) continue;
            if (n_stale >= MAX_STALE) continue;
            stale[n_stale] = malloc(len);
            if (!stale[n_stale]) continue;
            memcpy(stale[n_stale], d, len);
            stale_len[n_stale++] = len;
        }
    }
    free(bufp);
    close(s);
    if (!delete_stale) return n_stale;
    int deleted = 0;
    for (int i = 0; i < n_stale; i++) {
        if (audit_request(AUDIT_DEL_RULE, stale[i], stale_len[i]) == 0) deleted++;
        free(stale[i]);
    }
    return deleted;
}
