// The part of Debian's libsodium-dev that vpn-init uses: X25519 (RFC 7748) and the library's
// one-time initialisation. The module map links the static archive.
#ifndef VPN_CSODIUM_SHIM_H
#define VPN_CSODIUM_SHIM_H
#include <sodium/core.h>
#include <sodium/crypto_scalarmult_curve25519.h>
#endif
