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
