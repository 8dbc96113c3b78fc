// Supervisor-side helper for posix_spawn: glibc's closefrom file action, which Swift's
// Glibc module does not export (it needs _GNU_SOURCE).
#define _GNU_SOURCE
#include "internal.h"
#include <spawn.h>

int warden_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
