// Headers of Debian's libmnl-dev and the kernel UAPI netlink families vpn-init speaks.
#ifndef VPN_CMNL_SHIM_H
#define VPN_CMNL_SHIM_H
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#endif
