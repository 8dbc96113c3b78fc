// The agent child: created by init with a shared descriptor table (until execve) and
// vfork semantics. Applies, in order: session, working directory, rlimits, Landlock,
// capabilities (+ verification), no_new_privs, seccomp (last), then execve.
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AGENT_FAIL 125

static int exec_exit_code(int err) { return (err == ENOENT || err == ENOTDIR) ? 127 : 126; }

/// Finds argv[0] like a shell does: 0 with `out` filled, or a positive errno (ENOENT when
/// nothing was found, EACCES when something was found but is not executable).
static int resolve_program(const char *name, const char *search, char *out, size_t cap) {
    size_t nlen = strlen(name);
    if (nlen == 0) return ENOENT;
    if (strchr(name, '/')) {
        if (nlen >= cap) return ENAMETOOLONG;
        memcpy(out, name, nlen + 1);
        return 0;
    }
    if (!search) search = "/usr/local/bin:/usr/bin:/bin";
    int seen_eacces = 0;
    const char *p = search;
    for (;;) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        const char *dir = p;
        if (dlen == 0) { dir = "."; dlen = 1; } // an empty entry means the current directory
        if (dlen + 1 + nlen + 1 <= cap) {
            memcpy(out, dir, dlen);
            out[dlen] = '/';
            memcpy(out + dlen + 1, name, nlen + 1);
            struct stat st;
            if (stat(out, &st) == 0) {
                if (S_ISREG(st.st_mode) && faccessat(AT_FDCWD, out, X_OK, AT_EACCESS) == 0) return 0;
                seen_eacces = 1;
            } else if (errno != ENOENT && errno != ENOTDIR) {
                seen_eacces = 1;
            }
        }
        if (!end) break;
        p = end + 1;
    }
    return seen_eacces ? EACCES : ENOENT;
}

__attribute__((noreturn)) void warden_agent_main(const struct warden_launch_spec *spec,
                                                 struct warden_child_fds fds) {
    int sw = fds.status_w, r, index = 0;
    // If init dies, so do we (it is also PID 1 of our namespace when there is one).
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        warden_fail(sw, WARDEN_STAGE_PDEATHSIG, errno, 0, AGENT_FAIL);
    if (setsid() < 0) warden_fail(sw, WARDEN_STAGE_SESSION, errno, 0, AGENT_FAIL);
    if (spec->cwd && chdir(spec->cwd) < 0) warden_fail(sw, WARDEN_STAGE_CWD, errno, 0, AGENT_FAIL);

    for (size_t i = 0; i < spec->rlimit_count; i++) {
        struct rlimit rl = { (rlim_t)spec->rlimits[i].soft, (rlim_t)spec->rlimits[i].hard };
        if (setrlimit(spec->rlimits[i].resource, &rl) < 0)
            warden_fail(sw, WARDEN_STAGE_RLIMIT, errno, (int)i, AGENT_FAIL);
    }
    if (spec->landlock_handled && (r = warden_apply_landlock(spec, &index)) < 0)
        warden_fail(sw, WARDEN_STAGE_LANDLOCK, -r, index, AGENT_FAIL);
    if (spec->apply_capabilities) {
        int stage = WARDEN_STAGE_CAPABILITIES;
        if ((r = warden_apply_capabilities(spec, &stage, &index)) < 0)
            warden_fail(sw, stage, -r, index, AGENT_FAIL);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        warden_fail(sw, WARDEN_STAGE_NO_NEW_PRIVS, errno, 0, AGENT_FAIL);

    static char program[4096];
    int err = resolve_program(spec->argv[0], spec->search_path, program, sizeof program);
    if (err) warden_fail(sw, WARDEN_STAGE_EXEC, err, 0, exec_exit_code(err));

    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (spec->seccomp_filter && spec->seccomp_filter_len) {
        struct sock_fprog prog = {
            (unsigned short)(spec->seccomp_filter_len / sizeof(struct sock_filter)),
            (struct sock_filter *)(uintptr_t)spec->seccomp_filter,
        };
        if (spec->seccomp_filter_len % sizeof(struct sock_filter) ||
            spec->seccomp_filter_len / sizeof(struct sock_filter) > 0xffff)
            warden_fail(sw, WARDEN_STAGE_SECCOMP, EINVAL, 0, AGENT_FAIL);
        unsigned long flags = spec->seccomp_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
        // The listener (O_CLOEXEC) lands in the table shared with init; execve unshares the
        // table and drops it from ours, so the agent never holds its own listener.
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
            warden_fail(sw, WARDEN_STAGE_SECCOMP, errno, 0, AGENT_FAIL);
    }
    execve(program, (char *const *)spec->argv, (char *const *)spec->envp);
    err = errno;
    warden_fail(sw, WARDEN_STAGE_EXEC, err, 0, exec_exit_code(err));
}
