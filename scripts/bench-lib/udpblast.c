// udpblast: the load generator and sink of the udp-over-tcp goodput benchmark.
//
//   udpblast send HOST:PORT SIZE COUNT [RATE_MBIT]   blast COUNT datagrams of SIZE bytes
//   udpblast recv HOST:PORT EXPECT IDLE_MS            count datagrams until EXPECT arrived,
//                                                      or IDLE_MS passed without one
//
// Both ends batch with sendmmsg/recvmmsg so that neither is the bottleneck. Each datagram
// starts with its sequence number, so the sink counts distinct datagrams (duplicates and
// reordering are reported, not counted twice). RATE_MBIT 0 means as fast as possible;
// otherwise the sender paces itself to that many Mbit/s of payload. Every loop is bounded
// in count and in time (at most 60 s). Times are CLOCK_MONOTONIC nanoseconds, so the two
// processes' figures can be compared; each prints one JSON object on stdout.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { batch = 64, max_size = 65507, max_seconds = 60 };

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "udpblast: %s: %s\n", what, strerror(errno));
    exit(1);
}

static struct sockaddr_in parse_address(const char *text) {
    struct sockaddr_in address = {.sin_family = AF_INET};
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host) { fprintf(stderr, "udpblast: bad address %s\n", text); exit(2); }
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) { fprintf(stderr, "udpblast: bad address %s\n", text); exit(2); }
    address.sin_port = htons((uint16_t)atoi(colon + 1));
    return address;
}

static void big_buffer(int fd, int option_force, int option) {
    int size = 64 << 20;
    // The FORCE variants pass net.core.rmem_max/wmem_max (root); the plain ones are the fallback.
    if (setsockopt(fd, SOL_SOCKET, option_force, &size, sizeof size) != 0)
        setsockopt(fd, SOL_SOCKET, option, &size, sizeof size);
}

static int blast(const char *target, long size, long count, double rate_mbit) {
    struct sockaddr_in address = parse_address(target);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    big_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) die("connect");
    static unsigned char payload[batch][max_size];
    struct mmsghdr messages[batch];
    struct iovec vectors[batch];
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < batch; i++) {
        memset(payload[i], 0xa5, (size_t)size);
        vectors[i] = (struct iovec){.iov_base = payload[i], .iov_len = (size_t)size};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    double ns_per_datagram = rate_mbit > 0 ? (double)size * 8 * 1000 / rate_mbit : 0;
    long sent = 0, failed = 0;
    uint64_t start = now_ns(), deadline = start + (uint64_t)max_seconds * 1000000000u;
    while (sent + failed < count && now_ns() < deadline) {
        int n = (int)(count - sent - failed < batch ? count - sent - failed : batch);
        if (ns_per_datagram > 0) {
            // Pace: wait until the first datagram of this batch is due, then send a small batch.
            if (n > 8) n = 8;
            uint64_t due = start + (uint64_t)((double)(sent + failed) * ns_per_datagram);
            while (now_ns() < due) {}
        }
        for (int i = 0; i < n; i++) {
            uint64_t sequence = (uint64_t)(sent + failed + i);
            memcpy(payload[i], &sequence, size < 8 ? (size_t)size : 8);
        }
        int done = sendmmsg(fd, messages, (unsigned)n, 0);
        if (done < 0) {
            if (errno == EINTR) continue;
            // ENOBUFS/EAGAIN: the datagram is lost at the sender, as the kernel would drop it.
            failed++;
            continue;
        }
        sent += done;
    }
    uint64_t end = now_ns();
    printf("{\"sent\":%ld,\"send_failed\":%ld,\"size\":%ld,\"start_ns\":%llu,\"end_ns\":%llu}\n", sent, failed, size,
           (unsigned long long)start, (unsigned long long)end);
    return 0;
}

static int sink(const char *bind_to, long expect, long idle_ms) {
    struct sockaddr_in address = parse_address(bind_to);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) die("socket");
    big_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    enum { vector = 256, slot = 65536 };
    static unsigned char buffers[vector][slot];
    struct mmsghdr messages[vector];
    struct iovec vectors[vector];
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < vector; i++) {
        vectors[i] = (struct iovec){.iov_base = buffers[i], .iov_len = slot};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    // One bit per expected sequence number, to count each datagram once.
    long bitmap_bytes = expect / 8 + 1;
    unsigned char *seen = calloc((size_t)bitmap_bytes, 1);
    if (!seen) die("calloc");
    long received = 0, duplicates = 0, out_of_order = 0, foreign = 0;
    unsigned long long bytes = 0, first = 0, last = 0;
    uint64_t highest = 0;
    uint64_t started = now_ns(), deadline = started + (uint64_t)max_seconds * 1000000000u;
    fprintf(stderr, "udpblast: listening on %s\n", bind_to);
    while (received < expect) {
        // Before the first datagram wait up to the deadline; after it, up to IDLE_MS of silence.
        uint64_t now = now_ns();
        if (now >= deadline) break;
        long wait_ms = first ? idle_ms : (long)((deadline - now) / 1000000);
        struct pollfd poller = {.fd = fd, .events = POLLIN};
        int ready = poll(&poller, 1, (int)wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        int n = recvmmsg(fd, messages, vector, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            die("recvmmsg");
        }
        uint64_t at = now_ns();
        if (!first) first = at;
        last = at;
        for (int i = 0; i < n; i++) {
            uint64_t sequence = 0;
            unsigned length = messages[i].msg_len;
            memcpy(&sequence, buffers[i], length < 8 ? length : 8);
            if (length < 8) sequence &= (1ull << (8 * length)) - 1;
            if (sequence >= (uint64_t)expect) { foreign++; continue; }
            if (seen[sequence / 8] & (1u << (sequence % 8))) { duplicates++; continue; }
            seen[sequence / 8] |= (unsigned char)(1u << (sequence % 8));
            if (sequence < highest) out_of_order++;
            else highest = sequence;
            received++;
            bytes += length;
        }
    }
    printf("{\"received\":%ld,\"bytes\":%llu,\"duplicates\":%ld,\"out_of_order\":%ld,\"foreign\":%ld,"
           "\"first_ns\":%llu,\"last_ns\":%llu}\n",
           received, bytes, duplicates, out_of_order, foreign, first, last);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "send") == 0) {
        long size = atol(argv[3]), count = atol(argv[4]);
        if (size < 1 || size > max_size || count < 1 || count > 100000000) { fprintf(stderr, "udpblast: bad size or count\n"); return 2; }
        return blast(argv[2], size, count, argc > 5 ? atof(argv[5]) : 0);
    }
    if (argc == 5 && strcmp(argv[1], "recv") == 0) {
        long expect = atol(argv[3]);
        if (expect < 1 || expect > 100000000) { fprintf(stderr, "udpblast: bad count\n"); return 2; }
        return sink(argv[2], expect, atol(argv[4]));
    }
    fprintf(stderr, "usage: udpblast send HOST:PORT SIZE COUNT [RATE_MBIT] | recv HOST:PORT EXPECT IDLE_MS\n");
    return 2;
}
