#include "launcher.h"
int warden_launcher_abi_version(void) { return 1; }
