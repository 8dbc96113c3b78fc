// The mount plan, applied by init inside its new mount namespace. Targets are opened with
// RESOLVE_NO_SYMLINKS (Swift passes canonical paths, so a symlink here means the tree
// changed under us) and mounted through /proc/self/fd/N, which names exactly that object.
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static int open_target(const char *path) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
}

static void fd_path(char out[32], int fd) {
    static const char prefix[] = "/proc/self/fd/";
    memcpy(out, prefix, sizeof prefix - 1);
    char tmp[12]; int n = 0;
    unsigned int v = (unsigned int)fd;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    size_t i = sizeof prefix - 1;
    while (n) out[i++] = tmp[--n];
    out[i] = '\0';
}

/// Sets `attr_bit` (MOUNT_ATTR_RDONLY or MOUNT_ATTR_NOEXEC) on the mount at `fd` and,
/// when `recursive`, on everything below.
static int set_mount_attr(int fd, int recursive, uint64_t attr_bit) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attr_bit;
    unsigned int flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    if (syscall(SYS_mount_setattr, fd, "", flags, &attr, sizeof attr) == 0) return 0;
    if (errno != ENOSYS) return -errno;
    // Old kernels: remount, keeping the flags a user namespace may not clear.
    struct statvfs sv;
    if (fstatvfs(fd, &sv) < 0) return -errno;
    unsigned long keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
    if (sv.f_flag & ST_RDONLY) keep |= MS_RDONLY;
    keep |= attr_bit == MOUNT_ATTR_NOEXEC ? MS_NOEXEC : MS_RDONLY;
    char p[32]; fd_path(p, fd);
    if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | keep, NULL) < 0) return -errno;
    return 0;
}

static int make_readonly(int fd, int recursive) { return set_mount_attr(fd, recursive, MOUNT_ATTR_RDONLY); }

/// Binds `path` onto itself (recursively) and sets `attr_bit` on the new mounts.
static int bind_with(const char *path, int fd, uint64_t attr_bit) {
    char p[32]; fd_path(p, fd);
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) return -errno;
    int top = open_target(path); // now the new mount's root
    if (top < 0) return top;
    int r = set_mount_attr(top, 1, attr_bit);
    close(top);
    return r;
}

static int bind_readonly(const char *path, int fd) { return bind_with(path, fd, MOUNT_ATTR_RDONLY); }

/// Binds the file `source` (opened with `extra_flags`) onto the target `fd` and makes the
/// new mount at `path` read-only.
static int bind_readonly_from(const char *source, int extra_flags, const char *path, int fd) {
    int src = open(source, O_PATH | O_CLOEXEC | extra_flags);
    if (src < 0) return -errno;
    char s[32]; fd_path(s, src);
    char p[32]; fd_path(p, fd);
    int r = mount(s, p, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
    close(src);
    if (r < 0) return r;
    int top = open_target(path);
    if (top < 0) return top;
    r = make_readonly(top, 0);
    close(top);
    return r;
}

static int mask(const char *path, int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    char p[32]; fd_path(p, fd);
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555") < 0)
            return -errno;
        return 0;
    }
    return bind_readonly_from("/dev/null", 0, path, fd);
}

/// Binds the file `source` onto the target `fd` (read-only): a generated file in its place.
static int bind_file(const char *source, const char *path, int fd) {
    if (!source) return -EINVAL;
    return bind_readonly_from(source, O_NOFOLLOW, path, fd);
}

int warden_apply_mounts(const struct warden_launch_spec *spec, int *index) {
    *index = -1;
    // Nothing we do below may propagate back to the host, and nothing from the host in.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return -errno;
    for (size_t i = 0; i < spec->mount_count; i++) {
        const struct warden_mount_op *op = &spec->mounts[i];
        *index = (int)i;
        int fd = open_target(op->path);
        if (fd < 0) return fd;
        char p[32]; fd_path(p, fd);
        int r = 0;
        switch (op->kind) {
        case WARDEN_MOUNT_BIND_RO: r = bind_readonly(op->path, fd); break;
        case WARDEN_MOUNT_BIND:
            if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) r = -errno;
            break;
        case WARDEN_MOUNT_MASK: r = mask(op->path, fd); break;
        case WARDEN_MOUNT_READONLY:
            r = make_readonly(fd, 1);
            if (r == -EINVAL) r = bind_readonly(op->path, fd); // not a mount root yet
            break;
        case WARDEN_MOUNT_TMPFS:
            if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, op->data ? op->data : "mode=0700") < 0) r = -errno;
            break;
        case WARDEN_MOUNT_NOEXEC: r = bind_with(op->path, fd, MOUNT_ATTR_NOEXEC); break;
        case WARDEN_MOUNT_PROC:
            if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) r = -errno;
            break;
        case WARDEN_MOUNT_BIND_FILE: r = bind_file(op->data, op->path, fd); break;
        default: r = -EINVAL;
        }
        close(fd);
        if (r < 0) return r;
    }
    return 0;
}
