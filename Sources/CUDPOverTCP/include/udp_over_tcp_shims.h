// Batched UDP socket calls for udp2tcp/tcp2udp's forwarding fast paths: sendmmsg(2) and
// recvmmsg(2) with their mmsghdr arrays and control messages built in C (the Swift Glibc module
// is compiled without _GNU_SOURCE, so it has neither call, and CMSG_* are macros); and
// malloc_trim(3), which the Glibc module does not declare (<malloc.h>).
#ifndef UDP_OVER_TCP_SHIMS_H
#define UDP_OVER_TCP_SHIMS_H
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/// The most messages one call of either function handles.
#define UOT_BATCH_LIMIT 256

/// Sends `count` messages with one sendmmsg(2) on a connected socket: message i gathers the
/// `vectorCounts[i]` iovecs of `vectors` that follow message i - 1's (the payloads where they
/// are, nothing copied); when `segments[i]` is not 0 it is a UDP GSO send of datagrams of that
/// many bytes (udp(7) UDP_SEGMENT), the last one possibly shorter.
/// Returns the number of messages sent, or -1 with errno set (as sendmmsg does).
int uot_send_batch(int fd, struct iovec *vectors, const unsigned *vectorCounts, const uint16_t *segments, unsigned count);

/// Receives up to `count` datagrams with one non-blocking recvmmsg(2): datagram i goes to the
/// `capacity` bytes at `bases[i]`, its length to `lengths[i]` and its source to `sources[i]`.
/// Returns the number received, or -1 with errno set (EAGAIN when none is waiting).
int uot_receive_batch(int fd, void *const *bases, size_t capacity, size_t *lengths,
                      struct sockaddr_storage *sources, unsigned count);

/// Gives the free memory of every malloc arena back to the kernel: glibc's malloc_trim(0), which
/// also releases free pages inside a heap, not only at its top. Does nothing on a C library
/// without it.
void uot_release_free_memory(void);
#endif
