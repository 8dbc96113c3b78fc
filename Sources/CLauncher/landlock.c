// Landlock: a ruleset with the handled rights this kernel's ABI knows, one path-beneath
// rule per existing path, then landlock_restrict_self.
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// Rights newer than the installed header.
#define WARDEN_LL_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define WARDEN_LL_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
#define WARDEN_LL_V1 ((1ULL << 13) - 1)   /* EXECUTE .. MAKE_SYM */
#define WARDEN_LL_REFER (1ULL << 13)      /* ABI 2 */
// Rights that apply to files (everything else only makes sense on directories).
#define WARDEN_LL_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
    LANDLOCK_ACCESS_FS_READ_FILE | WARDEN_LL_TRUNCATE | WARDEN_LL_IOCTL_DEV)

int warden_landlock_abi(void) {
    long r = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return r < 0 ? -errno : (int)r;
}

static uint64_t supported_rights(int abi) {
    uint64_t m = WARDEN_LL_V1;
    if (abi >= 2) m |= WARDEN_LL_REFER;
    if (abi >= 3) m |= WARDEN_LL_TRUNCATE;
    if (abi >= 5) m |= WARDEN_LL_IOCTL_DEV;
    return m;
}

struct rule_attr { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));

int warden_apply_landlock(const struct warden_launch_spec *spec, int *index) {
    *index = -1;
    int abi = warden_landlock_abi();
    if (abi < 1) return abi < 0 ? abi : -ENOSYS;
    uint64_t handled = spec->landlock_handled & supported_rights(abi);
    if (spec->landlock_handled & ~handled) return -EOPNOTSUPP; // Swift filters; fail closed
    uint64_t attr = handled; // struct landlock_ruleset_attr's first field: handled_access_fs
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) return -errno;
    int r = 0;
    for (size_t i = 0; i < spec->landlock_rule_count; i++) {
        *index = (int)i;
        int fd = open(spec->landlock_rules[i].path, O_PATH | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR) continue; // nothing there to grant
            r = -errno; goto out;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) { r = -errno; close(fd); goto out; }
        uint64_t access = spec->landlock_rules[i].access & handled;
        if (!S_ISDIR(st.st_mode)) access &= WARDEN_LL_FILE_RIGHTS;
        if (access) {
            struct rule_attr ra = { access, fd };
            if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &ra, 0) < 0) {
                r = -errno; close(fd); goto out;
            }
        }
        close(fd);
    }
    *index = -1;
    // Denials after the agent's execve are logged to kernel audit only with this flag
    // (ABI 7); the supervisor reads them when it observes filesystem denials.
    unsigned flags = (spec->landlock_log_after_exec && abi >= 7) ? (1U << 1) : 0;
    if (syscall(SYS_landlock_restrict_self, ruleset, flags) < 0) {
        // Without CAP_SYS_ADMIN (no user namespace), Landlock needs no_new_privs first;
        // it is set later anyway, so setting it now changes nothing but the order.
        if (errno != EPERM || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_landlock_restrict_self, ruleset, flags) < 0)
            r = -errno;
    }
out:
    close(ruleset);
    return r;
}
