#define _GNU_SOURCE
#include "vpn_system.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <linux/if_tun.h>

_Static_assert(VPN_TUN_FLAG_TUN == IFF_TUN, "IFF_TUN");
_Static_assert(VPN_TUN_FLAG_EXCLUSIVE == IFF_TUN_EXCL, "IFF_TUN_EXCL");

int vpn_tun_set_interface(int fd, const char *name, int flags) {
    struct ifreq request;
    memset(&request, 0, sizeof request);
    if (strlen(name) >= sizeof request.ifr_name) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(request.ifr_name, name);
    request.ifr_flags = (short)flags;
    return ioctl(fd, TUNSETIFF, &request);
}

int vpn_tun_set_persistent(int fd, int persistent) {
    return ioctl(fd, TUNSETPERSIST, (unsigned long)persistent);
}

static int saved_argc;
static char *const *saved_argv;

// glibc calls the functions of .init_array with (argc, argv, envp), as it calls main
// (csu/libc-start.c, call_init); the vector lives as long as the process.
__attribute__((constructor)) static void vpn_save_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

int vpn_argument_count(void) { return saved_argc; }

char *const *vpn_argument_vector(void) { return saved_argv; }

int vpn_set_not_dumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int vpn_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

int vpn_sealable_memory_file(const char *name) {
    return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

int vpn_seal_memory_file(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
}
