#include <seccomp.h>
/* Kernel UAPI constants that Swift's Glibc module does not export (it is built without
   _GNU_SOURCE, and these headers are not part of it): CLONE_*, PR_*, personality flags,
   MFD_*, NETLINK_*. WardenKernel.NamedConstants reads them from here, not from hand-typed values. */
#include <linux/sched.h>
#include <linux/prctl.h>
#include <linux/personality.h>
#include <linux/memfd.h>
#include <linux/netlink.h>
