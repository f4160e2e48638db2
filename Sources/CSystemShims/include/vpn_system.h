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

/// Marks the process as not dumpable (`prctl(PR_SET_DUMPABLE, 0)`): no core dump, and only a
/// process with CAP_SYS_PTRACE may attach to it or read its memory and environment through
/// /proc. `exec` of another program makes the new program dumpable again. Returns 0, or -1.
int vpn_set_not_dumpable(void);

/// Whether the process is dumpable (`prctl(PR_GET_DUMPABLE)`): 0 or 1, or -1 with errno set.
int vpn_dumpable(void);

/// An anonymous in-memory file that can be sealed (`memfd_create(name, MFD_CLOEXEC |
/// MFD_ALLOW_SEALING)`). Returns the descriptor, or -1 with errno set.
int vpn_sealable_memory_file(const char *name);

/// Seals such a file against any change of its content or size and against further seals
/// (`F_ADD_SEALS` with `F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL`). Returns 0, or -1.
int vpn_seal_memory_file(int fd);
#endif
