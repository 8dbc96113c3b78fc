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

int warden_kernel_audit_enabled(void) {
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
            struct audit_status st;
            memset(&st, 0, sizeof st);
            size_t len = buf.h.nlmsg_len - NLMSG_HDRLEN;
            memcpy(&st, NLMSG_DATA(&buf.h), len < sizeof st ? len : sizeof st);
            r = st.enabled ? 1 : 0;
            goto out;
        }
    }
out:
    close(s);
    return r;
}
