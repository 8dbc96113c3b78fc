// Supervisor-side helpers for posix_spawn: glibc's closefrom and chdir file actions, which
// Swift's Glibc module does not export (they need _GNU_SOURCE).
#define _GNU_SOURCE
#include "internal.h"
#include <spawn.h>

int warden_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int warden_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}
