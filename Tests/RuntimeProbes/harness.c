// A C supervisor built from the launcher sources, so tests can SIGKILL "the supervisor"
// and run it as an unprivileged user. Usage:
//   harness hold CMD...   launch CMD (PID namespace), print "started", wait forever
//   harness hold-all CMD... the same with every layer of "unpriv"
//   harness unpriv CMD... launch CMD with user/mount/pid/ipc/uts/net namespaces, Landlock
//                         (read+exec /), no capabilities, a filter denying getppid, and
//                         exit with its status (125 + message on launch failure)
#define _GNU_SOURCE
#include "launcher.h"
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int hold = !strncmp(argv[1], "hold", 4);
    int full = strcmp(argv[1], "hold") != 0; // "hold-all": every layer, as in "unpriv"
    static const char *envp[] = { "PATH=/usr/bin:/bin", NULL };
    struct warden_launch_spec s;
    memset(&s, 0, sizeof s);
    s.argv = (const char *const *)(argv + 2);
    s.envp = envp;
    s.search_path = "/usr/bin:/bin";
    s.stdio[0] = s.stdio[1] = s.stdio[2] = -1;
    s.cgroup_procs_fd = -1;
    s.securebits = -1;
    struct warden_mount_op proc = { WARDEN_MOUNT_PROC, 0, "/proc", NULL };
    struct warden_landlock_rule rule = { "/", 0x5 /* execute | read_file */ | 0x8 };
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    if (!full) {
        s.namespaces = WARDEN_NS_PID;
    } else {
        s.namespaces = WARDEN_NS_USER | WARDEN_NS_MOUNT | WARDEN_NS_PID | WARDEN_NS_IPC |
                       WARDEN_NS_UTS | WARDEN_NS_NET;
        s.outer_uid = getuid(); s.outer_gid = getgid();
        s.mounts = &proc; s.mount_count = 1;
        s.landlock_handled = 0xffff; s.landlock_abi = 7;
        s.landlock_rules = &rule; s.landlock_rule_count = 1;
        s.apply_capabilities = 1; s.securebits = 0x23;
        s.seccomp_filter = (const unsigned char *)f; s.seccomp_filter_len = sizeof f;
        int abi = warden_landlock_abi();
        if (abi < 5) s.landlock_handled &= ~(1ULL << 15);
        if (abi < 3) s.landlock_handled &= ~(1ULL << 14);
        if (abi < 2) s.landlock_handled &= ~(1ULL << 13);
    }
    struct warden_launch_handles h;
    int32_t stage;
    int rc = warden_launch(&s, &h, &stage);
    if (rc < 0) { fprintf(stderr, "launch: stage %d: %s\n", stage, strerror(-rc)); return 125; }
    struct warden_error_record rec;
    ssize_t n = read(h.status_fd, &rec, sizeof rec);
    if (n == sizeof rec) {
        fprintf(stderr, "harness: stage %d errno %d (%s) index %d\n", rec.stage, rec.err, strerror(rec.err), rec.index);
        waitpid(h.init_pid, NULL, 0);
        return 125;
    }
    if (hold) {
        printf("started %d\n", h.init_pid);
        fflush(stdout);
        for (;;) pause();
    }
    int st;
    waitpid(h.init_pid, &st, 0);
    int32_t raw;
    if (read(h.result_fd, &raw, sizeof raw) != sizeof raw) return 124;
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}
