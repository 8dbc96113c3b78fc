// Internal helpers shared by the launcher's C files. Everything here is async-signal-safe:
// it runs in the children, after clone and before execve, with no malloc and no stdio.
#ifndef WARDEN_INTERNAL_H
#define WARDEN_INTERNAL_H
#include "launcher.h"

/// Descriptors the children keep until exec (all CLOEXEC).
struct warden_child_fds {
    int status_w;   ///< status pipe, write end
    int result_w;   ///< result pipe, write end (init only)
    int notify_w;   ///< socket end for the listener fd, or -1
    int life_r;     ///< lifeline: read end, HUP once the supervisor is gone
    int helper_w;   ///< the unix-socket helper's end of its socketpair, or -1
};

/// Closes every descriptor above 2 except the ones in `keep` (at most 8).
int warden_close_all_except(const int *keep, int count);

/// Runs the unix-socket helper (forked by init after the mounts): restricts itself, then
/// serves connect/bind requests on `sock` until the supervisor closes it.
__attribute__((noreturn)) void warden_unix_helper_main(const struct warden_launch_spec *spec, int sock, int status_w);

/// Writes a failure record (best effort) and exits with `code`.
__attribute__((noreturn)) void warden_fail(int status_w, int stage, int err, int index, int code);

/// Runs as the first child (PID 1 of the new PID namespace): namespaces, mounts, cgroup,
/// then starts the agent and reaps until it ends.
__attribute__((noreturn)) void warden_init_main(const struct warden_launch_spec *spec,
                                                struct warden_child_fds fds);

/// Runs in the agent child: rlimits, Landlock, capabilities, no_new_privs, seccomp, exec.
__attribute__((noreturn)) void warden_agent_main(const struct warden_launch_spec *spec,
                                                 struct warden_child_fds fds);

/// Applies the mount plan; 0 or -errno with *index set.
int warden_apply_mounts(const struct warden_launch_spec *spec, int *index);
/// Applies Landlock; 0 or -errno with *index (-1: the ruleset itself).
int warden_apply_landlock(const struct warden_launch_spec *spec, int *index);
/// Applies securebits and the capability sets, then verifies them; 0 or -errno with
/// *stage and *index (the offending capability for verification failures).
int warden_apply_capabilities(const struct warden_launch_spec *spec, int *stage, int *index);

#endif
