#define _GNU_SOURCE
#include "udp_over_tcp_shims.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // include/uapi/linux/udp.h
#endif

int uot_send_batch(int fd, struct iovec *vectors, const unsigned *vectorCounts, const uint16_t *segments, unsigned count) {
    struct mmsghdr messages[UOT_BATCH_LIMIT];
    union {
        char bytes[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } controls[UOT_BATCH_LIMIT];
    if (count > UOT_BATCH_LIMIT) count = UOT_BATCH_LIMIT;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    size_t next = 0;
    for (unsigned i = 0; i < count; i++) {
        messages[i].msg_hdr.msg_iov = &vectors[next];
        messages[i].msg_hdr.msg_iovlen = vectorCounts[i];
        next += vectorCounts[i];
        if (segments[i]) {
            memset(&controls[i], 0, sizeof controls[i]);
            messages[i].msg_hdr.msg_control = controls[i].bytes;
            messages[i].msg_hdr.msg_controllen = sizeof controls[i].bytes;
            struct cmsghdr *header = CMSG_FIRSTHDR(&messages[i].msg_hdr);
            header->cmsg_level = IPPROTO_UDP;
            header->cmsg_type = UDP_SEGMENT;
            header->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            memcpy(CMSG_DATA(header), &segments[i], sizeof(uint16_t));
        }
    }
    return sendmmsg(fd, messages, count, 0);
}

int uot_receive_batch(int fd, void *const *bases, size_t capacity, size_t *lengths,
                      struct sockaddr_storage *sources, unsigned count) {
    struct mmsghdr messages[UOT_BATCH_LIMIT];
    struct iovec vectors[UOT_BATCH_LIMIT];
    if (count > UOT_BATCH_LIMIT) count = UOT_BATCH_LIMIT;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = bases[i];
        vectors[i].iov_len = capacity;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &sources[i];
        messages[i].msg_hdr.msg_namelen = sizeof sources[i];
    }
    int received = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < received; i++) lengths[i] = messages[i].msg_len;
    return received;
}

void uot_release_free_memory(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
