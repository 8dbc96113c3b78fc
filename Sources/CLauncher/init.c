// The first child: PID 1 of the new PID namespace. It finishes the namespace set-up
// (id maps, cgroup, mounts, loopback), starts the agent with a shared descriptor table
// and vfork semantics, hands the seccomp listener to the supervisor, then reaps every
// process and forwards signals until the agent ends. It never executes anything.
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define INIT_FAIL 125

static size_t put_uint(char *buf, unsigned long v) {
    char tmp[24];
    size_t n = 0, i = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) buf[i++] = tmp[--n];
    return i;
}

static int write_file(const char *path, const char *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = write(fd, data, len);
    int err = n < 0 ? errno : ((size_t)n != len ? EIO : 0);
    close(fd);
    return -err;
}

static int write_id_map(const char *path, uint32_t id) {
    char line[64];
    size_t n = put_uint(line, id);
    line[n++] = ' ';
    n += put_uint(line + n, id);
    line[n++] = ' '; line[n++] = '1'; line[n++] = '\n';
    return write_file(path, line, n);
}

/// Closes every descriptor above 2 except the ones in `keep`.
int warden_close_all_except(const int *keep, int count) {
    // Insertion sort of the (tiny) keep list.
    int k[8]; int n = 0;
    for (int i = 0; i < count && n < 8; i++) {
        if (keep[i] < 3) continue;
        int j = n++;
        while (j > 0 && k[j - 1] > keep[i]) { k[j] = k[j - 1]; j--; }
        k[j] = keep[i];
    }
    unsigned int from = 3;
    for (int i = 0; i <= n; i++) {
        unsigned int to = i < n ? (unsigned int)k[i] : ~0U;
        if (to > from) {
            unsigned int last = i < n ? to - 1 : ~0U;
            if (syscall(SYS_close_range, from, last, 0) < 0) {
                if (errno != ENOSYS) return -errno;
                for (unsigned int fd = from; fd <= last && fd < 65536; fd++) close((int)fd);
            }
        }
        if (i < n) from = (unsigned int)k[i] + 1;
    }
    return 0;
}

static void reset_signal_dispositions(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        sigaction(s, &dfl, NULL); // glibc-reserved real-time signals fail harmlessly
    }
}

static int loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    int r = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (r == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int err = r < 0 ? errno : 0;
    close(s);
    return -err;
}

/// Finds the seccomp listener the agent left in the shared descriptor table.
static int find_listener(void) {
    for (int fd = 3; fd < 1024; fd++) {
        uint64_t id = 0;
        if (fcntl(fd, F_GETFD) < 0) continue;
        // Only a listener answers ID_VALID with ENOENT; pipes and sockets say ENOTTY.
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 && errno == ENOENT) return fd;
    }
    return -1;
}

static int send_fd(int sock, int fd) {
    char byte = 'L';
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov; msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf; msg.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

__attribute__((noreturn)) void warden_init_main(const struct warden_launch_spec *spec,
                                                struct warden_child_fds fds) {
    int sw = fds.status_w, r;
    for (int i = 0; i < 3; i++)
        if (spec->stdio[i] >= 0 && spec->stdio[i] != i && dup2(spec->stdio[i], i) < 0)
            warden_fail(sw, WARDEN_STAGE_FDS, errno, i, INIT_FAIL);
    // 0-2 must be open: otherwise the next descriptor opened (the seccomp listener, a file
    // of the agent) would silently become its stdin/stdout/stderr.
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0 && open("/dev/null", O_RDWR) != i)
            warden_fail(sw, WARDEN_STAGE_FDS, errno, i, INIT_FAIL);
    int keep[7] = { fds.status_w, fds.result_w, fds.notify_w, fds.life_r, spec->cgroup_procs_fd, fds.helper_w,
                    spec->cgroup_procs_fd2 };
    if ((r = warden_close_all_except(keep, 7)) < 0) warden_fail(sw, WARDEN_STAGE_FDS, -r, 0, INIT_FAIL);
    reset_signal_dispositions();
    if (setsid() < 0) warden_fail(sw, WARDEN_STAGE_SESSION, errno, 0, INIT_FAIL);
    if (spec->audit_loginuid_set) {
        // The run's own audit login uid, inherited by every agent process: the supervisor's
        // kernel audit rules match it. Best effort: the supervisor checks it took.
        char text[16];
        int len = snprintf(text, sizeof text, "%u", spec->audit_loginuid);
        int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, text, (size_t)len) < 0) { /* checked by the supervisor */ }
            close(fd);
        }
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        warden_fail(sw, WARDEN_STAGE_PDEATHSIG, errno, 0, INIT_FAIL);
    // The supervisor may have died before PR_SET_PDEATHSIG: its end of the lifeline is then
    // closed. (getppid() cannot tell: it is 0 across a PID namespace either way.)
    struct pollfd lp = { fds.life_r, POLLIN, 0 };
    if (poll(&lp, 1, 0) > 0 && (lp.revents & (POLLHUP | POLLIN))) _exit(INIT_FAIL);

    if (spec->namespaces & WARDEN_NS_USER) {
        if ((r = write_file("/proc/self/setgroups", "deny", 4)) < 0 ||
            (r = write_id_map("/proc/self/uid_map", spec->outer_uid)) < 0 ||
            (r = write_id_map("/proc/self/gid_map", spec->outer_gid)) < 0)
            warden_fail(sw, WARDEN_STAGE_USERNS, -r, 0, INIT_FAIL);
    }
    if (spec->cgroup_procs_fd >= 0) {
        if (write(spec->cgroup_procs_fd, "0", 1) != 1) warden_fail(sw, WARDEN_STAGE_CGROUP, errno, 0, INIT_FAIL);
        close(spec->cgroup_procs_fd);
    }
    // Only a descriptor above stdio counts: a spec zeroed by an older caller means none.
    if (spec->cgroup_procs_fd2 > 2) {
        if (write(spec->cgroup_procs_fd2, "0", 1) != 1) warden_fail(sw, WARDEN_STAGE_CGROUP, errno, 1, INIT_FAIL);
        close(spec->cgroup_procs_fd2);
    }
    if ((spec->namespaces & WARDEN_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
        warden_fail(sw, WARDEN_STAGE_NAMESPACES, errno, 0, INIT_FAIL);
    if (spec->namespaces & WARDEN_NS_MOUNT) {
        int index = -1;
        if ((r = warden_apply_mounts(spec, &index)) < 0)
            warden_fail(sw, WARDEN_STAGE_MOUNT, -r, index, INIT_FAIL);
    }
    if ((spec->namespaces & WARDEN_NS_NET) && (r = loopback_up()) < 0)
        warden_fail(sw, WARDEN_STAGE_NETWORK, -r, 0, INIT_FAIL);
    if ((spec->namespaces & WARDEN_NS_UTS) && spec->hostname &&
        sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        warden_fail(sw, WARDEN_STAGE_HOSTNAME, errno, 0, INIT_FAIL);
    // The agent (same uid) must not ptrace this process or read its memory.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (fds.helper_w >= 0) {
        // The unix-socket helper lives in the agent's world (see unix_helper.c).
        long helper = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (helper == 0) {
            close(fds.result_w);
            if (fds.notify_w >= 0) close(fds.notify_w);
            close(fds.life_r);
            warden_unix_helper_main(spec, fds.helper_w, sw);
        }
        if (helper < 0) warden_fail(sw, WARDEN_STAGE_INIT, errno, 0, INIT_FAIL);
        close(fds.helper_w);
    }
    int own_pidns = (spec->namespaces & WARDEN_NS_PID) != 0;
    if (!own_pidns) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    // CLONE_FILES: the agent's descriptor table is this one until its execve, so the
    // listener created by its seccomp() is visible here and the agent needs no syscall but
    // execve after its filter is in place. CLONE_VFORK: we resume once it exec'd or died.
    long agent = syscall(SYS_clone, CLONE_FILES | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
    if (agent == 0) warden_agent_main(spec, fds);
    if (agent < 0) warden_fail(sw, WARDEN_STAGE_INIT, errno, 0, INIT_FAIL);

    if (fds.notify_w >= 0) {
        int listener = find_listener();
        if (listener >= 0) {
            // If the supervisor is gone the send fails; the agent then dies with us.
            send_fd(fds.notify_w, listener);
            close(listener);
        }
        close(fds.notify_w);
    }
    close(sw);
    close(fds.life_r);

    // Reap and forward until the agent ends. Every signal is still blocked here.
    sigset_t all;
    sigfillset(&all);
    int status = 0;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0) continue;
        if (sig != SIGCHLD) { kill((pid_t)agent, sig); continue; }
        int st; pid_t p; int done = 0;
        while ((p = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
            if (p == (pid_t)agent) { status = st; done = 1; }
        if (done) break;
    }
    int32_t raw = status;
    ssize_t n;
    do { n = write(fds.result_w, &raw, sizeof raw); } while (n < 0 && errno == EINTR);
    if (!own_pidns) {
        // Without a PID namespace the agent's session is the best handle on its tree.
        kill(-(pid_t)agent, SIGKILL);
        while (waitpid(-1, NULL, WNOHANG | __WALL) > 0) {}
    }
    // Leaving PID 1 makes the kernel SIGKILL everything else in the namespace.
    _exit(0);
}
