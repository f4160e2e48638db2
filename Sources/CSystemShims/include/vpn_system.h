// System headers the Swift Glibc module does not bring in.
#ifndef VPN_SYSTEM_H
#define VPN_SYSTEM_H
#include <sys/random.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <net/if.h>
#endif
