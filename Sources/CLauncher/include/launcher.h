#ifndef WARDEN_LAUNCHER_H
#define WARDEN_LAUNCHER_H
/// Placeholder; the runner issue fills this in.
int warden_launcher_abi_version(void);
#endif
