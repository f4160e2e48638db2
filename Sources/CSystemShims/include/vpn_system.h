// System headers the Swift Glibc module does not bring in.
#ifndef VPN_SYSTEM_H
#define VPN_SYSTEM_H
#include <sys/random.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <net/if.h>

/// Flags of `vpn_tun_set_interface` (`IFF_*` of linux/if_tun.h).
enum {
    /// A layer-3 TUN device (`IFF_TUN`).
    VPN_TUN_FLAG_TUN = 0x0001,
    /// Fail with EBUSY when a device of that name exists (`IFF_TUN_EXCL`).
    VPN_TUN_FLAG_EXCLUSIVE = 0x8000,
};

/// Creates the TUN device `name` (or attaches to it) on `fd`, an open `/dev/net/tun` (the
/// corresponding C call is `ioctl(fd, TUNSETIFF, ...)`). Returns 0, or -1 with errno set.
int vpn_tun_set_interface(int fd, const char *name, int flags);

/// Keeps the TUN device of `fd` after its last descriptor closes (`persistent` 1) or not (0);
/// the corresponding C call is `ioctl(fd, TUNSETPERSIST, persistent)`. Returns 0, or -1.
int vpn_tun_set_persistent(int fd, int persistent);

/// The process's argument count and vector as the kernel passed them to `main`, saved by an ELF
/// constructor before any Swift runs. Unlike Swift's `CommandLine.arguments` (which reads
/// /proc/self/cmdline on Linux), they do not depend on which /proc is mounted: under
/// `nsenter -m` into a container, /proc belongs to another PID namespace.
int vpn_argument_count(void);
char *const *vpn_argument_vector(void);
#endif
