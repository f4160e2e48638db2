// benchproc: process-level helpers for scripts/bench.
//
//   benchproc stamp FILE CMD ARGS...   write CLOCK_MONOTONIC ns to FILE, then exec CMD in this
//                                      process (so CMD keeps our PID, e.g. PID 1)
//   benchproc watch PATTERN FILE       copy stdin to stdout; when a line contains PATTERN,
//                                      write the CLOCK_MONOTONIC ns it arrived at to FILE
//   benchproc orphans N                make N orphans: each is the child of a short-lived
//                                      child, so it is reparented to the nearest reaper
//                                      (PID 1 or a subreaper) and exits at once
//   benchproc term PID [SIGNAL]        send SIGNAL (default TERM) to PID and print how many ns
//                                      passed until it exited (pidfd; at most 30 s)
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
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

int main(int argc, char **argv) {
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "term") == 0)
        return term((pid_t)atoi(argv[2]), argc == 4 ? atoi(argv[3]) : SIGTERM);
    if (argc >= 4 && strcmp(argv[1], "stamp") == 0) return stamp(argv[2], argv + 3);
    if (argc == 4 && strcmp(argv[1], "watch") == 0) return watch(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "orphans") == 0) {
        long count = atol(argv[2]);
        if (count < 1 || count > 1000000) { fprintf(stderr, "benchproc: bad count\n"); return 2; }
        return orphans(count);
    }
    fprintf(stderr, "usage: benchproc stamp FILE CMD... | watch PATTERN FILE | orphans N\n");
    return 2;
}
