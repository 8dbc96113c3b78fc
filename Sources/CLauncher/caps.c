// Capabilities: securebits, bounding set, ambient, capset, then read everything back.
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int capget_sets(uint64_t *eff, uint64_t *prm, uint64_t *inh) {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) < 0) return -errno;
    *eff = d[0].effective | ((uint64_t)d[1].effective << 32);
    *prm = d[0].permitted | ((uint64_t)d[1].permitted << 32);
    *inh = d[0].inheritable | ((uint64_t)d[1].inheritable << 32);
    return 0;
}

static int first_bit(uint64_t m) {
    for (int i = 0; i < 64; i++) if (m & (1ULL << i)) return i;
    return -1;
}

int warden_apply_capabilities(const struct warden_launch_spec *spec, int *stage, int *index) {
    *index = -1;
    // Securebits first: it needs CAP_SETPCAP, which the bounding-set drop also needs.
    if (spec->securebits >= 0 && prctl(PR_SET_SECUREBITS, (unsigned long)spec->securebits, 0, 0, 0) < 0) {
        *stage = WARDEN_STAGE_SECUREBITS;
        return -errno;
    }
    *stage = WARDEN_STAGE_CAPABILITIES;
    int last = -1;
    for (int c = 0; c < 64; c++) {
        int has = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
        if (has < 0) break; // EINVAL past the kernel's last capability
        last = c;
        if (has && !(spec->cap_bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
            *index = c;
            return -errno;
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return -errno;
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    d[0].effective = (uint32_t)spec->cap_effective;
    d[1].effective = (uint32_t)(spec->cap_effective >> 32);
    d[0].permitted = (uint32_t)spec->cap_permitted;
    d[1].permitted = (uint32_t)(spec->cap_permitted >> 32);
    d[0].inheritable = (uint32_t)spec->cap_inheritable;
    d[1].inheritable = (uint32_t)(spec->cap_inheritable >> 32);
    if (syscall(SYS_capset, &h, d) < 0) return -errno;
    for (int c = 0; c <= last; c++) {
        if ((spec->cap_ambient & (1ULL << c)) &&
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
            *index = c;
            return -errno;
        }
    }

    // Read back: any capability beyond the requested ones is a failure.
    *stage = WARDEN_STAGE_CAPS_VERIFY;
    uint64_t eff, prm, inh;
    int r = capget_sets(&eff, &prm, &inh);
    if (r < 0) return r;
    uint64_t extra = (eff & ~spec->cap_effective) | (prm & ~spec->cap_permitted) |
                     (inh & ~spec->cap_inheritable);
    if (extra) { *index = first_bit(extra); return -EPERM; }
    for (int c = 0; c <= last; c++) {
        if (!(spec->cap_bounding & (1ULL << c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 0) {
            *index = c; return -EPERM;
        }
        int amb = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0);
        if (!(spec->cap_ambient & (1ULL << c)) && amb != 0 && !(amb < 0 && errno == EINVAL)) {
            *index = c; return -EPERM;
        }
    }
    return 0;
}
