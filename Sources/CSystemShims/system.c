#include "vpn_system.h"

#include <errno.h>
#include <string.h>
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
