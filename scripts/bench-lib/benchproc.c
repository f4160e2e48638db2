// benchproc: process-level helpers for scripts/bench.
//
//   benchproc stamp FILE CMD ARGS...   write CLOCK_MONOTONIC ns to FILE, then exec CMD in this
//                                      process (so CMD keeps our PID, e.g. PID 1)
//   benchproc watch PATTERN FILE       copy stdin to stdout; when a line contains PATTERN,
//                                      write the CLOCK_MONOTONIC ns it arrived at to FILE
//   benchproc stamped                  copy stdin to stdout, each line prefixed with the
//                                      CLOCK_MONOTONIC ns it arrived at and a space
//   benchproc signal PID SIGNAL        send SIGNAL to PID; print the CLOCK_MONOTONIC ns just
//                                      before it was sent
//   benchproc rename FROM TO           rename(2) FROM to TO; print the CLOCK_MONOTONIC ns just
//                                      before
//   benchproc orphans N                make N orphans: each is the child of a short-lived
//                                      child, so it is reparented to the nearest reaper
//                                      (PID 1 or a subreaper) and exits at once
//   benchproc term PID [SIGNAL]        send SIGNAL (default TERM) to PID and print how many ns
//                                      passed until it exited (pidfd; at most 30 s)
//   benchproc rpc SOCKET N PAUSE_MS METHOD BODY [METHOD BODY]...
//                                      N rounds of round trips to an HTTP server on a Unix
//                                      socket: each round sleeps PAUSE_MS, then makes one round
//                                      trip per METHOD, in order, as vpn-init makes them to the
//                                      dstack guest agent (a new connection, `POST /METHOD` with
//                                      BODY and `Connection: close`, read to EOF; 5 s timeouts);
//                                      prints one line a round, the ns of each round trip; fails
//                                      unless every answer is 200
//   benchproc starts N PROG... [-- ARG...]
//                                      runs each PROG (with the ARGs, if any; stdout to /dev/null)
//                                      N times, interleaved (A B C A B C ...); prints, for each
//                                      PROG in order, the median ns from spawn to exit; fails
//                                      unless every run exits 0
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

static void write_stamp(const char *file, unsigned long long ns) {
    FILE *out = fopen(file, "w");
    if (!out) { perror(file); exit(1); }
    fprintf(out, "%llu\n", ns);
    fclose(out);
}

static int stamp(const char *file, char **command) {
    write_stamp(file, now_ns());
    execvp(command[0], command);
    fprintf(stderr, "benchproc: exec %s: %s\n", command[0], strerror(errno));
    return 127;
}

static int watch(const char *pattern, const char *file) {
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    int seen = 0;
    while ((length = getline(&line, &capacity, stdin)) >= 0) {
        if (!seen && strstr(line, pattern)) {
            write_stamp(file, now_ns());
            seen = 1;
        }
        fwrite(line, 1, (size_t)length, stdout);
        fflush(stdout);
    }
    return 0;
}

static int stamped(void) {
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    while ((length = getline(&line, &capacity, stdin)) >= 0) {
        printf("%llu ", now_ns());
        fwrite(line, 1, (size_t)length, stdout);
        fflush(stdout);
    }
    return 0;
}

static int send_signal(pid_t pid, int signal_number) {
    unsigned long long start = now_ns();
    if (kill(pid, signal_number) != 0) { perror("kill"); return 1; }
    printf("%llu\n", start);
    return 0;
}

static int rename_file(const char *from, const char *to) {
    unsigned long long start = now_ns();
    if (rename(from, to) != 0) { perror(to); return 1; }
    printf("%llu\n", start);
    return 0;
}

static int orphans(long count) {
    // Every orphan holds the write end of a pipe; the read end sees EOF once all of them exited.
    int done[2];
    if (pipe(done) != 0) { perror("pipe"); return 1; }
    unsigned long long start = now_ns();
    for (long i = 0; i < count; i++) {
        pid_t child = fork();
        if (child < 0) { perror("fork"); return 1; }
        if (child == 0) {
            if (fork() < 0) _exit(1);
            _exit(0);  // both the child and the grandchild (the orphan) exit at once
        }
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    }
    close(done[1]);
    char byte;
    // The orphans' reaper is not us; wait briefly for the last ones to be gone from the table.
    while (read(done[0], &byte, 1) > 0) {}
    unsigned long long end = now_ns();
    printf("{\"orphans\":%ld,\"spawn_ns\":%llu}\n", count, end - start);
    return 0;
}

static int term(pid_t pid, int signal_number) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) { perror("pidfd_open"); return 1; }
    unsigned long long start = now_ns();
    if (kill(pid, signal_number) != 0) { perror("kill"); return 1; }
    struct pollfd exited = {.fd = pidfd, .events = POLLIN};
    int ready;
    while ((ready = poll(&exited, 1, 30000)) < 0 && errno == EINTR) {}
    if (ready != 1) { fprintf(stderr, "benchproc: %d did not exit within 30 s\n", (int)pid); return 1; }
    printf("%llu\n", now_ns() - start);
    return 0;
}

/* One round trip: connect, send REQUEST, read to EOF. Returns its ns, or 0 on failure. */
static unsigned long long round_trip(const struct sockaddr_un *address, const char *method, const char *request, int length) {
    static char answer[1 << 20];
    struct timeval limit = {.tv_sec = 5};
    unsigned long long start = now_ns();
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); return 0; }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (connect(fd, (const struct sockaddr *)address, sizeof *address) != 0) { perror(address->sun_path); close(fd); return 0; }
    if (write(fd, request, (size_t)length) != length) { perror("write"); close(fd); return 0; }
    size_t used = 0;
    ssize_t got;
    while (used < sizeof answer && (got = read(fd, answer + used, sizeof answer - used)) != 0) {
        if (got < 0) {
            if (errno == EINTR) continue;
            perror("read"); close(fd); return 0;
        }
        used += (size_t)got;
    }
    unsigned long long end = now_ns();
    close(fd);
    if (used < 12 || memcmp(answer, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "benchproc: %s answered %.*s\n", method, (int)(used < 40 ? used : 40), answer);
        return 0;
    }
    return end - start;
}

static int rpc(const char *path, long count, long pause_ms, int calls, char **pairs) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) { fprintf(stderr, "benchproc: socket path too long\n"); return 2; }
    strcpy(address.sun_path, path);
    char requests[8][4096];
    int lengths[8];
    if (calls > 8) { fprintf(stderr, "benchproc: at most 8 methods\n"); return 2; }
    for (int c = 0; c < calls; c++) {
        const char *method = pairs[2 * c], *body = pairs[2 * c + 1];
        lengths[c] = snprintf(requests[c], sizeof requests[c],
            "POST /%s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", method, strlen(body), body);
        if (lengths[c] < 0 || (size_t)lengths[c] >= sizeof requests[c]) { fprintf(stderr, "benchproc: request too long\n"); return 2; }
    }
    struct timespec pause = {.tv_sec = pause_ms / 1000, .tv_nsec = (pause_ms % 1000) * 1000000};
    for (long i = 0; i < count; i++) {
        if (pause_ms > 0) while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {}
        pause.tv_sec = pause_ms / 1000;
        pause.tv_nsec = (pause_ms % 1000) * 1000000;
        for (int c = 0; c < calls; c++) {
            unsigned long long ns = round_trip(&address, pairs[2 * c], requests[c], lengths[c]);
            if (ns == 0) return 1;
            printf(c + 1 < calls ? "%llu " : "%llu\n", ns);
        }
        fflush(stdout);
    }
    return 0;
}

static int compare_ns(const void *a, const void *b) {
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

static int starts(long count, int programs, char **paths, int arguments, char **extra) {
    unsigned long long *times = calloc((size_t)count * (size_t)programs, sizeof *times);
    if (!times) { perror("calloc"); return 1; }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    extern char **environ;
    for (long i = 0; i < count; i++) {
        for (int p = 0; p < programs; p++) {
            char *argv[64] = {paths[p]};
            for (int a = 0; a < arguments; a++) argv[1 + a] = extra[a];
            pid_t child;
            int status;
            unsigned long long start = now_ns();
            int error = posix_spawn(&child, paths[p], &actions, NULL, argv, environ);
            if (error != 0) { fprintf(stderr, "benchproc: spawn %s: %s\n", paths[p], strerror(error)); return 1; }
            while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
            times[(size_t)p * (size_t)count + (size_t)i] = now_ns() - start;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "benchproc: %s failed (status %d)\n", paths[p], status);
                return 1;
            }
        }
    }
    for (int p = 0; p < programs; p++) {
        unsigned long long *mine = times + (size_t)p * (size_t)count;
        qsort(mine, (size_t)count, sizeof *mine, compare_ns);
        printf("%llu\n", count % 2 ? mine[count / 2] : (mine[count / 2 - 1] + mine[count / 2]) / 2);
    }
    return 0;
}

int main(int argc, char **argv) {
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "term") == 0)
        return term((pid_t)atoi(argv[2]), argc == 4 ? atoi(argv[3]) : SIGTERM);
    if (argc >= 4 && strcmp(argv[1], "stamp") == 0) return stamp(argv[2], argv + 3);
    if (argc == 4 && strcmp(argv[1], "watch") == 0) return watch(argv[2], argv[3]);
    if (argc == 2 && strcmp(argv[1], "stamped") == 0) return stamped();
    if (argc == 4 && strcmp(argv[1], "signal") == 0) return send_signal((pid_t)atoi(argv[2]), atoi(argv[3]));
    if (argc == 4 && strcmp(argv[1], "rename") == 0) return rename_file(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "orphans") == 0) {
        long count = atol(argv[2]);
        if (count < 1 || count > 1000000) { fprintf(stderr, "benchproc: bad count\n"); return 2; }
        return orphans(count);
    }
    if (argc >= 7 && argc % 2 == 1 && strcmp(argv[1], "rpc") == 0) {
        long count = atol(argv[3]), pause_ms = atol(argv[4]);
        if (count < 1 || count > 100000) { fprintf(stderr, "benchproc: bad count\n"); return 2; }
        if (pause_ms < 0 || pause_ms > 10000) { fprintf(stderr, "benchproc: bad pause\n"); return 2; }
        return rpc(argv[2], count, pause_ms, (argc - 5) / 2, argv + 5);
    }
    if (argc >= 4 && strcmp(argv[1], "starts") == 0) {
        long count = atol(argv[2]);
        if (count < 1 || count > 100000) { fprintf(stderr, "benchproc: bad count\n"); return 2; }
        int programs = 0;
        while (3 + programs < argc && strcmp(argv[3 + programs], "--") != 0) programs++;
        int arguments = 3 + programs < argc ? argc - 4 - programs : 0;
        if (programs < 1 || arguments > 62) { fprintf(stderr, "benchproc: starts N PROG... [-- ARG...]\n"); return 2; }
        return starts(count, programs, argv + 3, arguments, argv + 4 + programs);
    }
    fprintf(stderr, "usage: benchproc stamp FILE CMD... | watch PATTERN FILE | stamped | signal PID SIGNAL"
                    " | rename FROM TO | orphans N | term PID [SIGNAL]"
                    " | rpc SOCKET N PAUSE_MS METHOD BODY... | starts N PROG... [-- ARG...]\n");
    return 2;
}
