// The mount plan, applied by init inside its new mount namespace, with the new mount API
// (open_tree, move_mount, mount_setattr, fsopen/fsmount): every target and source is an
// O_PATH descriptor opened with RESOLVE_NO_SYMLINKS beneath a root descriptor, so a symlink
// on the way (the tree changed under us) fails the launch instead of being followed, and
// no step needs a mounted /proc.
//
// Two modes. The legacy one applies the steps to the host's tree (both roots are "/").
// With `build_root` the agent's world is built from its grants: a tmpfs becomes the base,
// init pivots into it so the host's root is reachable at /oldroot (the sources), a second
// empty tmpfs at /newroot receives exactly the granted paths (the targets), then the
// skeleton is made read-only and init pivots into /newroot and detaches everything else.
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

static int sys_openat2(int dirfd, const char *path, struct open_how *how) {
    return (int)syscall(SYS_openat2, dirfd, path, how, sizeof *how);
}
static int sys_open_tree(int dirfd, const char *path, unsigned int flags) {
    return (int)syscall(SYS_open_tree, dirfd, path, flags);
}
static int sys_move_mount(int from, const char *fp, int to, const char *tp, unsigned int flags) {
    return (int)syscall(SYS_move_mount, from, fp, to, tp, flags);
}
static int sys_mount_setattr(int fd, const char *path, unsigned int flags, struct mount_attr *a) {
    return (int)syscall(SYS_mount_setattr, fd, path, flags, a, sizeof *a);
}
static int sys_fsopen(const char *fs, unsigned int flags) { return (int)syscall(SYS_fsopen, fs, flags); }
static int sys_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux) {
    return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}
static int sys_fsmount(int fd, unsigned int flags, unsigned int attrs) {
    return (int)syscall(SYS_fsmount, fd, flags, attrs);
}

/// Where targets and sources are resolved.
struct roots {
    int target;  ///< the agent's `/` being built (or the host's `/`)
    int source;  ///< the host's `/`
};

/// Skips leading slashes: paths are resolved beneath a root descriptor.
static const char *relative(const char *path) {
    while (*path == '/') path++;
    return *path ? path : ".";
}

/// Opens `path` beneath `root` without following any symlink. -errno on failure.
static int open_beneath(int root, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = sys_openat2(root, relative(path), &how);
    return fd < 0 ? -errno : fd;
}

/// Sets `attr` bits on the mount at `fd` (and, when `recursive`, everything below it).
static int set_attr(int fd, uint64_t attr, int recursive) {
    struct mount_attr a;
    memset(&a, 0, sizeof a);
    a.attr_set = attr;
    return sys_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a) < 0 ? -errno : 0;
}

/// Attaches the detached mount `tree` on top of `target`, then closes `tree`.
static int attach(int tree, int target) {
    int r = sys_move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ? -errno : 0;
    close(tree);
    return r;
}

/// A detached copy of the tree at `fd` (with submounts when `recursive`) with `attr` set.
static int clone_with(int fd, int recursive, uint64_t attr) {
    int tree = sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
    if (tree < 0) return -errno;
    int r = attr ? set_attr(tree, attr, recursive) : 0;
    if (r < 0) { close(tree); return r; }
    return tree;
}

/// Binds the tree at `fd` onto itself with `attr` (a read-only or noexec copy in place).
static int rebind(int fd, uint64_t attr) {
    int tree = clone_with(fd, 1, attr);
    return tree < 0 ? tree : attach(tree, fd);
}

/// A new detached filesystem of type `fs` with `options` ("key=value,key=value").
static int new_fs(const char *fs, const char *options, unsigned int attrs) {
    int ctx = sys_fsopen(fs, FSOPEN_CLOEXEC);
    if (ctx < 0) return -errno;
    char buf[256];
    int r = 0;
    if (options) {
        size_t n = strlen(options);
        if (n >= sizeof buf) { close(ctx); return -E2BIG; }
        memcpy(buf, options, n + 1);
        char *save = NULL;
        for (char *kv = strtok_r(buf, ",", &save); kv && r == 0; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            if (eq) *eq = '\0';
            if (sys_fsconfig(ctx, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, kv, eq ? eq + 1 : NULL, 0) < 0) r = -errno;
        }
    }
    if (r == 0 && sys_fsconfig(ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) r = -errno;
    int mnt = r == 0 ? sys_fsmount(ctx, FSMOUNT_CLOEXEC, attrs) : -1;
    if (r == 0 && mnt < 0) r = -errno;
    close(ctx);
    return r < 0 ? r : mnt;
}

/// Opens (creating what is missing, as directories, and the last component as a directory
/// or an empty file) `path` beneath `root`. Used only inside the agent's skeleton and the
/// run's own directories: never to create anything in a host tree that already exists.
static int make_mountpoint(int root, const char *path, int directory) {
    char buf[4096];
    const char *rel = relative(path);
    size_t n = strlen(rel);
    if (n >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, rel, n + 1);
    int dir = open_beneath(root, ".", O_PATH | O_DIRECTORY);
    if (dir < 0) return dir;
    if (strcmp(rel, ".") == 0) return dir;
    char *save = NULL;
    char *name = strtok_r(buf, "/", &save);
    while (name) {
        char *next = strtok_r(NULL, "/", &save);
        int last = next == NULL;
        int fd = open_beneath(dir, name, O_PATH | O_NOFOLLOW | (last ? 0 : O_DIRECTORY));
        if (fd == -ENOENT) {
            int made;
            if (!last || directory) {
                made = mkdirat(dir, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
            } else {
                int f = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                made = f < 0 && errno != EEXIST ? -errno : 0;
                if (f >= 0) close(f);
            }
            fd = made < 0 ? made : open_beneath(dir, name, O_PATH | O_NOFOLLOW | (last ? 0 : O_DIRECTORY));
        }
        close(dir);
        if (fd < 0) return fd;
        dir = fd;
        name = next;
    }
    return dir;
}

/// Binds the host's `op->data` at the agent's `op->path`: nosuid, read-only unless
/// writable, noexec unless executable, nodev unless it is a device node itself.
static int grant(const struct roots *r, const struct warden_mount_op *op) {
    if (!op->data) return -EINVAL;
    int src = open_beneath(r->source, op->data, O_PATH);
    if (src < 0) return src;
    struct stat st;
    if (fstat(src, &st) < 0) { int e = -errno; close(src); return e; }
    uint64_t attr = MOUNT_ATTR_NOSUID;
    if (!(op->flags & WARDEN_MOUNT_F_WRITABLE)) attr |= MOUNT_ATTR_RDONLY;
    if (!(op->flags & WARDEN_MOUNT_F_EXEC)) attr |= MOUNT_ATTR_NOEXEC;
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) attr |= MOUNT_ATTR_NODEV;
    int tree = clone_with(src, 1, attr);
    close(src);
    if (tree < 0) return tree;
    int target = make_mountpoint(r->target, op->path, S_ISDIR(st.st_mode));
    if (target < 0) { close(tree); return target; }
    int rc = attach(tree, target);
    close(target);
    return rc;
}

static int symlink_op(const struct roots *r, const struct warden_mount_op *op) {
    if (!op->data) return -EINVAL;
    const char *rel = relative(op->path);
    const char *slash = strrchr(rel, '/');
    char parent[4096];
    size_t plen = slash ? (size_t)(slash - rel) : 0;
    if (plen >= sizeof parent) return -ENAMETOOLONG;
    memcpy(parent, rel, plen);
    parent[plen] = '\0';
    int dir = make_mountpoint(r->target, plen ? parent : ".", 1);
    if (dir < 0) return dir;
    int d = open_beneath(dir, ".", O_RDONLY | O_DIRECTORY);
    close(dir);
    if (d < 0) return d;
    int rc = symlinkat(op->data, d, slash ? slash + 1 : rel) < 0 && errno != EEXIST ? -errno : 0;
    close(d);
    return rc;
}

/// Hides the path: an empty read-only tmpfs over a directory, the host's /dev/null over a file.
static int mask(const struct roots *r, int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    if (S_ISDIR(st.st_mode)) {
        int mnt = new_fs("tmpfs", "mode=0555", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        return mnt < 0 ? mnt : attach(mnt, fd);
    }
    int null = open_beneath(r->source, "/dev/null", O_PATH);
    if (null < 0) return null;
    int tree = clone_with(null, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    close(null);
    return tree < 0 ? tree : attach(tree, fd);
}

/// Binds the host's file `source` onto `fd`, read-only.
static int bind_file(const struct roots *r, const char *source, int fd) {
    if (!source) return -EINVAL;
    int src = open_beneath(r->source, source, O_PATH);
    if (src < 0) return src;
    int tree = clone_with(src, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    close(src);
    return tree < 0 ? tree : attach(tree, fd);
}

/// Writes "2" to vm.memfd_noexec of the proc at `proc`: memfds are never executable.
static int memfd_noexec(int proc) {
    int fd = open_beneath(proc, "sys/vm/memfd_noexec", O_WRONLY);
    if (fd < 0) return fd;
    int rc = write(fd, "2", 1) == 1 ? 0 : -errno;
    close(fd);
    return rc;
}

static int apply_op(const struct warden_launch_spec *spec, const struct roots *r, const struct warden_mount_op *op) {
    switch (op->kind) {
    case WARDEN_MOUNT_GRANT: return grant(r, op);
    case WARDEN_MOUNT_SYMLINK: return symlink_op(r, op);
    case WARDEN_MOUNT_PROC: {
        int target = spec->build_root ? make_mountpoint(r->target, op->path, 1) : open_beneath(r->target, op->path, O_PATH);
        if (target < 0) return target;
        int mnt = new_fs("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        int rc = mnt < 0 ? mnt : attach(mnt, target);
        if (rc == 0 && spec->memfd_noexec) {
            // `target` is the directory under the new mount: open the mount itself.
            int proc = open_beneath(r->target, op->path, O_PATH | O_DIRECTORY);
            rc = proc < 0 ? proc : memfd_noexec(proc);
            if (proc >= 0) close(proc);
            // The sysctl belongs to the host's root: from a user namespace (a run without
            // root) it cannot be set. A known gap there, documented in SECURITY.md.
            if ((rc == -EACCES || rc == -EPERM) && (spec->namespaces & WARDEN_NS_USER)) rc = 0;
        }
        close(target);
        return rc;
    }
    case WARDEN_MOUNT_TMPFS: {
        int target = spec->build_root ? make_mountpoint(r->target, op->path, 1) : open_beneath(r->target, op->path, O_PATH);
        if (target < 0) return target;
        int mnt = new_fs("tmpfs", op->data ? op->data : "mode=0700", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        int rc = mnt < 0 ? mnt : attach(mnt, target);
        close(target);
        return rc;
    }
    default: break;
    }
    int fd = open_beneath(r->target, op->path, O_PATH);
    // Nothing there to hide: a read deny of a path that does not exist protects nothing.
    if (fd == -ENOENT && op->kind == WARDEN_MOUNT_MASK) return 0;
    if (fd < 0) return fd;
    int rc;
    switch (op->kind) {
    case WARDEN_MOUNT_BIND_RO: rc = rebind(fd, MOUNT_ATTR_RDONLY); break;
    case WARDEN_MOUNT_BIND: rc = rebind(fd, 0); break;
    case WARDEN_MOUNT_MASK: rc = mask(r, fd); break;
    case WARDEN_MOUNT_READONLY:
        rc = set_attr(fd, MOUNT_ATTR_RDONLY, 1);
        if (rc == -EINVAL) rc = rebind(fd, MOUNT_ATTR_RDONLY); // not a mount root yet
        break;
    case WARDEN_MOUNT_NOEXEC: rc = rebind(fd, MOUNT_ATTR_NOEXEC); break;
    case WARDEN_MOUNT_BIND_FILE: rc = bind_file(r, op->data, fd); break;
    default: rc = -EINVAL;
    }
    close(fd);
    return rc;
}

/// Mounts the base tmpfs on /tmp and pivots into it: the host's root is then /oldroot.
/// Fills `r` with /oldroot (sources) and a fresh tmpfs at /newroot (targets).
static int enter_base(struct roots *r) {
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) return -errno;
    if (mkdir("/tmp/newroot", 0755) < 0 || mkdir("/tmp/oldroot", 0700) < 0) return -errno;
    if (chdir("/tmp") < 0) return -errno;
    if (syscall(SYS_pivot_root, ".", "oldroot") < 0) return -errno;
    if (chdir("/") < 0) return -errno;
    r->source = open("/oldroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r->source < 0) return -errno;
    int root = new_fs("tmpfs", "mode=0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    if (root < 0) return root;
    int at = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (at < 0) { close(root); return -errno; }
    int rc = attach(root, at);
    close(at);
    if (rc < 0) return rc;
    r->target = open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return r->target < 0 ? -errno : 0;
}

/// Makes the skeleton read-only and pivots into it, detaching the base and the host's root.
static int enter_new_root(struct roots *r) {
    int rc = set_attr(r->target, MOUNT_ATTR_RDONLY, 0);
    if (rc < 0) return rc;
    close(r->source);
    r->source = -1;
    if (fchdir(r->target) < 0) return -errno;
    if (syscall(SYS_pivot_root, ".", ".") < 0) return -errno;
    if (umount2(".", MNT_DETACH) < 0) return -errno;
    if (chdir("/") < 0) return -errno;
    close(r->target);
    r->target = -1;
    return 0;
}

int warden_apply_mounts(const struct warden_launch_spec *spec, int *index) {
    *index = -1;
    // Nothing we do below may propagate back to the host, and nothing from the host in.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return -errno;
    struct roots r = { -1, -1 };
    int rc;
    if (spec->build_root) {
        if ((rc = enter_base(&r)) < 0) return rc;
    } else {
        r.target = r.source = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r.target < 0) return -errno;
    }
    for (size_t i = 0; i < spec->mount_count; i++) {
        *index = (int)i;
        if ((rc = apply_op(spec, &r, &spec->mounts[i])) < 0) return rc;
    }
    *index = (int)spec->mount_count;
    if (spec->build_root) return enter_new_root(&r);
    close(r.target);
    return 0;
}
