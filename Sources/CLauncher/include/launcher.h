#ifndef WARDEN_LAUNCHER_H
#define WARDEN_LAUNCHER_H
/// The C launcher: everything between fork and exec. Swift fills a `warden_launch_spec`
/// (plain data, every pointer valid until `warden_launch` returns) and calls
/// `warden_launch`. No Swift code runs in the children.
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <spawn.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Where a launch failed. Sent over the CLOEXEC status pipe as a `warden_error_record`.
enum warden_stage {
    WARDEN_STAGE_NONE = 0,
    WARDEN_STAGE_SETUP = 1,        ///< parent side: pipes, socketpair (before clone)
    WARDEN_STAGE_CLONE = 2,        ///< clone(2) with the namespace flags
    WARDEN_STAGE_FDS = 3,          ///< closing inherited descriptors
    WARDEN_STAGE_SIGNALS = 4,      ///< resetting dispositions / mask
    WARDEN_STAGE_SESSION = 5,      ///< setsid
    WARDEN_STAGE_PDEATHSIG = 6,    ///< parent-death signal / supervisor already gone
    WARDEN_STAGE_USERNS = 7,       ///< writing uid_map / gid_map / setgroups
    WARDEN_STAGE_NAMESPACES = 8,   ///< unshare of late namespaces (cgroup)
    WARDEN_STAGE_MOUNT = 9,        ///< mount plan; index = operation index
    WARDEN_STAGE_NETWORK = 10,     ///< bringing loopback up in the new network namespace
    WARDEN_STAGE_HOSTNAME = 11,
    WARDEN_STAGE_CGROUP = 12,      ///< joining the prepared cgroup
    WARDEN_STAGE_INIT = 13,        ///< the PID-1 reaper could not start the agent
    WARDEN_STAGE_CWD = 14,
    WARDEN_STAGE_RLIMIT = 15,      ///< index = rlimit index
    WARDEN_STAGE_LANDLOCK = 16,    ///< index = rule index, or -1 for the ruleset itself
    WARDEN_STAGE_SECUREBITS = 17,
    WARDEN_STAGE_CAPABILITIES = 18,
    WARDEN_STAGE_CAPS_VERIFY = 19, ///< index = the capability still present
    WARDEN_STAGE_NO_NEW_PRIVS = 20,
    WARDEN_STAGE_SECCOMP = 21,
    WARDEN_STAGE_NOTIFY_SEND = 22, ///< handing the user-notification listener to the supervisor
    WARDEN_STAGE_EXEC = 23,        ///< errno ENOENT: not found (127); otherwise cannot execute (126)
};

/// One failure report. `index` names the mount operation, rlimit, Landlock rule or capability.
struct warden_error_record {
    int32_t stage;
    int32_t err;
    int32_t index;
    int32_t reserved;
};

enum warden_mount_kind {
    WARDEN_MOUNT_BIND_RO = 1,   ///< bind `path` onto itself (recursively), then make it read-only
    WARDEN_MOUNT_MASK = 2,      ///< directory: empty read-only tmpfs; file: read-only /dev/null
    WARDEN_MOUNT_READONLY = 3,  ///< make the existing mount at `path` read-only (recursively)
    WARDEN_MOUNT_TMPFS = 4,     ///< fresh tmpfs (nosuid,nodev); `data` = options or NULL
    WARDEN_MOUNT_PROC = 5,      ///< new proc for the PID namespace (nosuid,nodev,noexec)
    WARDEN_MOUNT_NOEXEC = 6,    ///< bind `path` onto itself (recursively), then make it noexec
    WARDEN_MOUNT_BIND = 7,      ///< bind `path` onto itself (recursively), writable: pins it (rename/rmdir get EBUSY)
    WARDEN_MOUNT_BIND_FILE = 8, ///< bind the file `data` (absolute) onto `path`, read-only
    WARDEN_MOUNT_GRANT = 9,     ///< fresh root only: bind the host's `data` at `path` with `flags`
    WARDEN_MOUNT_SYMLINK = 10,  ///< fresh root only: a symlink at `path` whose target is `data`
};

/// `warden_mount_op.flags` of a grant.
enum warden_mount_flag {
    WARDEN_MOUNT_F_WRITABLE = 1, ///< not read-only
    WARDEN_MOUNT_F_EXEC = 2,     ///< not noexec
};

struct warden_mount_op {
    int32_t kind;
    uint32_t flags;     ///< WARDEN_MOUNT_F_* (grants)
    const char *path;   ///< absolute, already canonical (no symlinks): symlinks are refused
    const char *data;   ///< tmpfs options, bind source or link target, or NULL
};

struct warden_rlimit {
    int32_t resource;
    uint64_t soft;
    uint64_t hard;
};

struct warden_landlock_rule {
    const char *path;
    uint64_t access;    ///< LANDLOCK_ACCESS_FS_* bits
};

/// Namespace request bits (independent of CLONE_* so Swift need not import sched.h).
enum warden_namespace {
    WARDEN_NS_USER = 1 << 0,
    WARDEN_NS_MOUNT = 1 << 1,
    WARDEN_NS_PID = 1 << 2,
    WARDEN_NS_IPC = 1 << 3,
    WARDEN_NS_UTS = 1 << 4,
    WARDEN_NS_NET = 1 << 5,
    WARDEN_NS_CGROUP = 1 << 6,
};

struct warden_launch_spec {
    const char *const *argv;      ///< NULL-terminated; argv[0] is searched in `search_path`
    const char *const *envp;      ///< NULL-terminated; exactly the agent's environment
    const char *search_path;      ///< PATH used to find argv[0] without '/', or NULL
    const char *cwd;              ///< NULL: keep the supervisor's
    uint32_t namespaces;          ///< WARDEN_NS_* bits
    uint32_t outer_uid, outer_gid;///< ids mapped into a new user namespace (inside = same ids)
    const char *hostname;         ///< set in a new UTS namespace, or NULL
    int32_t stdio[3];             ///< descriptors to become the agent's 0, 1, 2; -1 inherits

    const struct warden_mount_op *mounts;
    size_t mount_count;
    /// Nonzero: the mount plan builds a fresh root. Op paths are the agent's view (inside an
    /// empty tmpfs that becomes its `/`), bind sources are the host's; after the ops the
    /// skeleton is made read-only and init pivots into it, so nothing else of the host exists.
    int32_t build_root;
    /// Nonzero with `build_root`: vm.memfd_noexec = 2 in the agent's PID namespace.
    int32_t memfd_noexec;

    const struct warden_rlimit *rlimits;
    size_t rlimit_count;
    int32_t cgroup_procs_fd;      ///< open for writing cgroup.procs of a prepared cgroup, or -1
    int32_t cgroup_procs_fd2;     ///< a second cgroup.procs (another cgroup v1 hierarchy); ignored unless > 2

    uint64_t landlock_handled;    ///< 0: no Landlock; otherwise handled LANDLOCK_ACCESS_FS_* bits
    int32_t landlock_abi;         ///< ABI the rights were filtered for (>= 1 when handled != 0)
    const struct warden_landlock_rule *landlock_rules;
    size_t landlock_rule_count;
    int32_t landlock_log_after_exec; ///< nonzero (ABI >= 7): LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
    uint32_t audit_loginuid_set;  ///< nonzero: init writes audit_loginuid to /proc/self/loginuid
    uint32_t audit_loginuid;      ///< the run's own audit login uid (kernel audit rules match it)

    int32_t apply_capabilities;   ///< 0: leave capabilities alone
    uint64_t cap_bounding, cap_permitted, cap_effective, cap_inheritable, cap_ambient;
    int32_t securebits;           ///< -1: leave alone; otherwise the SECBIT_* value to set

    const unsigned char *seccomp_filter; ///< struct sock_filter array as bytes, or NULL
    size_t seccomp_filter_len;    ///< bytes (multiple of 8)
    int32_t seccomp_listener;     ///< nonzero: SECCOMP_FILTER_FLAG_NEW_LISTENER, fd to supervisor
    int32_t unix_helper;          ///< nonzero: start the in-sandbox unix-socket helper
};

/// What the supervisor gets back from `warden_launch`.
struct warden_launch_handles {
    pid_t init_pid;        ///< the PID-1 reaper (in the supervisor's PID namespace)
    int status_fd;         ///< read end of the CLOEXEC status pipe: EOF = agent exec'd
    int result_fd;         ///< read end: the agent's raw wait status (int32) when it ends
    int notify_fd;         ///< socket receiving the listener fd (SCM_RIGHTS), or -1
    int life_fd;           ///< lifeline write end: keep open until the run ends, then close
    int unix_helper_fd;    ///< the supervisor's end of the unix-socket helper's socketpair, or -1
};

/// Launches the init/reaper and the agent. Returns 0, or -errno with *stage set when the
/// parent-side setup failed (nothing was started then).
int warden_launch(const struct warden_launch_spec *spec, struct warden_launch_handles *out,
                  int32_t *stage);

/// Highest Landlock ABI of this kernel, or a negative errno (ENOSYS/EOPNOTSUPP: none).
int warden_landlock_abi(void);

/// The kernel audit subsystem: 1 enabled, 0 disabled, or -errno (e.g. -EPERM without
/// CAP_AUDIT_CONTROL, -EPROTONOSUPPORT without audit support). Never changes it.
int warden_kernel_audit_enabled(void);
/// Adds (add != 0) or deletes a syscall-exit audit rule: arch == `arch`, loginuid ==
/// `auid`, exit == `exit_value`, the syscalls in `syscalls` (`count` numbers), key `key`.
/// 0 or -errno.
int warden_kaudit_exit_rule(int add, uint32_t arch, uint32_t auid, int32_t exit_value,
                            const int32_t *syscalls, size_t count, const char *key);
/// Deletes the exit rules whose key starts with `prefix` followed by the decimal pid of a
/// process that no longer exists (rules of supervisors that died). Returns how many.
int warden_kaudit_delete_stale(const char *prefix);
/// How many audit rules have a key starting with `prefix`.
int warden_kaudit_count_rules(const char *prefix);
/// Records the kernel audit subsystem dropped since boot (host-wide; backlog limit), or -errno.
long long warden_kernel_audit_lost(void);
/// AUDIT_SET enabled = `on` (host-wide; only on the operator's request). 0 or -errno.
int warden_kaudit_set_enabled(int on);
/// A non-blocking NETLINK_AUDIT socket in the read-only multicast group
/// (AUDIT_NLGRP_READLOG; needs CAP_AUDIT_READ), or -errno.
int warden_kaudit_open_readlog(void);
/// Waits up to `timeout_ms` for one audit record; copies its text (not NUL-terminated) into
/// `buf` and its type into *type. Returns the length, 0 (with *type 0) when none came, or -errno.
int warden_kaudit_recv(int fd, char *buf, size_t cap, int timeout_ms, int *type);

/// Receives one fd sent with SCM_RIGHTS on `sock`; -errno on failure, -ENODATA on EOF.
int warden_recv_fd(int sock);

/// A user notification, flattened for Swift.
struct warden_notification {
    uint64_t id;
    uint32_t pid;
    int32_t nr;
    uint32_t arch;
    uint64_t instruction_pointer;
    uint64_t args[6];
};

/// SECCOMP_IOCTL_NOTIF_RECV; 0 or -errno.
int warden_notif_recv(int listener, struct warden_notification *out);
/// SECCOMP_IOCTL_NOTIF_SEND. `cont` != 0: let the syscall proceed (FLAG_CONTINUE);
/// otherwise fail it with `error` (a positive errno) or return `value` when error == 0.
int warden_notif_send(int listener, uint64_t id, int32_t error, int64_t value, int cont);
/// Asks for synchronous wake-ups between the agent and the supervisor (Linux 6.6+,
/// SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP); 0 or -errno (older kernels: -EINVAL or -ENOTTY).
int warden_notif_sync_wakeup(int listener);
/// SECCOMP_IOCTL_NOTIF_ID_VALID; 0 when the notification is still pending, else -errno.
int warden_notif_id_valid(int listener, uint64_t id);

/// Tries, in a short-lived child, to create the namespaces in `ns` (WARDEN_NS_* bits) with
/// unshare(2). Returns 0 on success or the positive errno.
int warden_probe_unshare(uint32_t ns);

/// Checks whether seccomp user notification works here: in place when this process has no
/// seccomp filter (SECCOMP_GET_ACTION_AVAIL), else by installing a listener in a child.
/// 0 when it does, else the errno.
int warden_probe_user_notif(void);
/// The same question always answered by a child installing a listener (for tests).
int warden_probe_user_notif_in_child(void);

/// Signal forwarding for the supervisor process: SIGINT, SIGTERM, SIGHUP (and SIGQUIT,
/// SIGUSR1, SIGUSR2) are sent to `target` while installed. `target` <= 0 uninstalls.
void warden_forward_signals(pid_t target);
/* Ignores SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 from now on (no forwarding):
   after the agent is gone, a stop signal must not kill Warden before it records the run's end. */
void warden_absorb_signals(void);
/// While forwarding, also write each forwarded signal's number (one byte) to `fd` (a
/// non-blocking pipe), so the supervisor can escalate; -1 stops.
void warden_forward_signals_wake(int fd);
/* A run's set-up (`warden run`): SIGINT, SIGTERM and SIGHUP kill Warden as usual until
 * `warden_setup_started()` (called just before `run.start` is written); from then on the first
 * one is held, and `warden_take_held_stop_signal()` returns it (0: none) once the supervisor
 * forwards signals to the agent, so a stop between `run.start` and the agent's start ends in a
 * recorded `run.exit`, never in a killed Warden. */
void warden_hold_stop_signals_during_setup(void);
void warden_setup_started(void);
int warden_take_held_stop_signal(void);

/// pidfd_open(2); -errno on failure.
int warden_pidfd_open(pid_t pid);

/// Reads a NUL-terminated string of the agent's at `addr` (at most `cap` bytes, page by
/// page) into `buf`; its length, -ENAMETOOLONG without a NUL within `cap`, or -errno.
int warden_read_cstring(pid_t tid, uint64_t addr, void *buf, size_t cap);
/// Reads exactly `len` bytes of the agent's memory; 0 or -errno (-EFAULT when short).
int warden_read_memory(pid_t tid, uint64_t addr, void *buf, size_t len);

/// The kinds of mediated socket calls.
enum {
    WARDEN_NET_CONNECT = 1,
    WARDEN_NET_BIND = 2,
    WARDEN_NET_LISTEN = 3,
    WARDEN_NET_SENDTO = 4,
    WARDEN_NET_SENDMSG = 5,
    WARDEN_NET_SENDMMSG = 6,
};

/// A mediated socket call of the agent, copied once: a duplicate of its socket and every
/// pointer argument's content. Release with `warden_net_release`.
struct warden_net_request {
    int kind;
    pid_t tid;
    int pidfd;            ///< pidfd of the calling thread
    int fd;               ///< duplicate of the agent's socket (pidfd_getfd)
    int domain, type, protocol;
    int nonblocking;      ///< O_NONBLOCK on the file description, or MSG_DONTWAIT
    int flags;            ///< send flags
    int backlog;          ///< listen
    int has_addr;
    uint32_t addrlen;
    uint8_t addr[128];    ///< the destination (connect, sends) or local address (bind)
    uint8_t *data;        ///< sends: the payload (at most 1 MiB; stream sends may be short)
    size_t datalen;
    uint8_t *control;     ///< sendmsg: ancillary data
    size_t controllen;
    uint64_t mmsg_len_addr; ///< sendmmsg: where to store the first message's msg_len
};

/// Fetches notification `id` (thread `tid`, syscall arguments `args`) of `kind`: duplicates
/// the socket, copies the arguments, then checks that the notification is still pending.
/// 0 or -errno (the errno to answer). Release `out` in every case.
/// The agent's setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, optval, optlen), performed on a
/// duplicate of its socket (pidfd_getfd) with the value copied once: applied on a stream
/// socket (0 or -errno); -EACCES on any other kind, unchanged (datagram sockets with
/// SO_REUSEADDR share a port with a host service's). -errno when it cannot be fetched.
int warden_net_reuseaddr(int listener, uint64_t id, pid_t tid, const uint64_t args[6]);

int warden_net_fetch(int listener, uint64_t id, pid_t tid, int kind, const uint64_t args[6],
                     struct warden_net_request *out);
/// Performs the fetched call on the duplicate with the copied arguments (pathname unix
/// addresses are resolved in the agent's root). The syscall's result or -errno.
long warden_net_perform(struct warden_net_request *r);
/// Frees what `warden_net_fetch` allocated and closes the duplicates.
void warden_net_release(struct warden_net_request *r);
/// Has the in-sandbox helper perform `kind` (WARDEN_NET_CONNECT or WARDEN_NET_BIND) on
/// `sockfd` (a duplicate of the agent's unix socket) with the pathname address `addr`,
/// resolved in the agent's world with its restrictions; `cwdfd` (or -1) is the calling
/// thread's working directory, for relative paths. Thread-safe (one request at a time).
/// The call's result (0) or -errno; -ETIMEDOUT when the helper did not answer in time.
long warden_unix_relay(int helper, int kind, int sockfd, int cwdfd, const void *addr, uint32_t addrlen, int timeout_ms);
/// Writes `len` bytes into the agent's memory; 0 or -errno.
int warden_net_write_mem(pid_t tid, uint64_t addr, const void *buf, size_t len);

/// Adds "close every descriptor from `from` up" to posix_spawn file actions (glibc's
/// closefrom action: no descriptor list to race with other threads). 0 or an errno.
int warden_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);
/// Adds "change to directory `path`" to posix_spawn file actions. 0 or an errno.
int warden_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path);

/// Asks the kernel to send `sig` to the calling process when its parent dies
/// (PR_SET_PDEATHSIG). 0 on success, -1 with errno set.
int warden_set_parent_death_signal(int sig);

/// Copies the running executable's GNU build ID (NT_GNU_BUILD_ID, read from its own program
/// headers) into `out`; returns its length, 0 when it has none or it exceeds `cap`.
int warden_build_id(uint8_t *out, size_t cap);

/// Drops this process's page mappings of the read-only, unrelocated segments (code and
/// constant data) of its executable and libraries (MADV_DONTNEED: their pages stay in the
/// page cache, and a page needed again is mapped back on its next use). Writable and RELRO
/// segments, and objects with text relocations, are left alone. Returns the bytes released.
long warden_release_code_pages(void);

#ifdef __cplusplus
}
#endif
#endif
