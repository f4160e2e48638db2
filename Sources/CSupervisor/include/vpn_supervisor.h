#ifndef VPN_SUPERVISOR_H
#define VPN_SUPERVISOR_H
#endif
