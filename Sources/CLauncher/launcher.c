// Parent side of the launcher: prepares pipes and clones the PID-1 reaper with the
// requested namespaces. Children never return here.
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noreturn)) void warden_fail(int status_w, int stage, int err, int index, int code) {
    struct warden_error_record rec = { stage, err, index, 0 };
    if (status_w >= 0) {
        ssize_t n;
        do { n = write(status_w, &rec, sizeof rec); } while (n < 0 && errno == EINTR);
    }
    _exit(code);
}

static unsigned long clone_flags(uint32_t ns) {
    unsigned long f = 0;
    if (ns & WARDEN_NS_USER) f |= CLONE_NEWUSER;
    if (ns & WARDEN_NS_MOUNT) f |= CLONE_NEWNS;
    if (ns & WARDEN_NS_PID) f |= CLONE_NEWPID;
    if (ns & WARDEN_NS_IPC) f |= CLONE_NEWIPC;
    if (ns & WARDEN_NS_UTS) f |= CLONE_NEWUTS;
    if (ns & WARDEN_NS_NET) f |= CLONE_NEWNET;
    // The cgroup namespace is created by init after it joined its cgroup.
    return f;
}

static void close_pair(int p[2]) {
    if (p[0] >= 0) close(p[0]);
    if (p[1] >= 0) close(p[1]);
}

int warden_launch(const struct warden_launch_spec *spec, struct warden_launch_handles *out,
                  int32_t *stage) {
    int status[2] = { -1, -1 }, result[2] = { -1, -1 }, life[2] = { -1, -1 };
    int sock[2] = { -1, -1 }, helper[2] = { -1, -1 };
    int saved;
    *stage = WARDEN_STAGE_SETUP;
    // A supervisor started with 0-2 closed would otherwise hand its pipes out as those
    // numbers. Filling them with /dev/null is the usual daemon hygiene.
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0 && errno == EBADF) {
            int fd = open("/dev/null", O_RDWR);
            if (fd >= 0 && fd != i) close(fd);
        }
    if (pipe2(status, O_CLOEXEC) < 0 || pipe2(result, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0)
        goto fail;
    if (spec->seccomp_listener &&
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0)
        goto fail;
    if (spec->unix_helper &&
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, helper) < 0)
        goto fail;

    // Children start with every signal blocked; they reset dispositions before unblocking,
    // so no handler of this (Swift) process can ever run in them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long pid = syscall(SYS_clone, clone_flags(spec->namespaces) | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        close(status[0]); close(result[0]); close(life[1]);
        if (sock[0] >= 0) close(sock[0]);
        if (helper[0] >= 0) close(helper[0]);
        struct warden_child_fds fds = { status[1], result[1], sock[1], life[0], helper[1] };
        warden_init_main(spec, fds);
    }
    saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        errno = saved;
        *stage = WARDEN_STAGE_CLONE;
        goto fail;
    }
    close(status[1]); close(result[1]); close(life[0]);
    if (sock[1] >= 0) close(sock[1]);
    if (helper[1] >= 0) close(helper[1]);
    // life[1] stays open (CLOEXEC) in the supervisor until the run ends: its closing on the
    // supervisor's death is how a child that raced PR_SET_PDEATHSIG notices.
    out->init_pid = (pid_t)pid;
    out->status_fd = status[0];
    out->result_fd = result[0];
    out->notify_fd = sock[0];
    out->life_fd = life[1];
    out->unix_helper_fd = helper[0];
    *stage = WARDEN_STAGE_NONE;
    return 0;
fail:
    saved = errno;
    close_pair(status); close_pair(result); close_pair(life); close_pair(sock); close_pair(helper);
    return -saved;
}
