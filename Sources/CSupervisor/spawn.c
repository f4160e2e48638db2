#define _GNU_SOURCE
#include "vpn_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <string.h>
#include <unistd.h>

// What the child writes to the status pipe when a step fails; nothing is written on success,
// and exec closes the pipe (O_CLOEXEC), so the parent reads end-of-file.
struct child_failure {
    int step;
    int error;
};

static void write_all(int fd, const void *bytes, size_t count) {
    const char *cursor = bytes;
    while (count > 0) {
        ssize_t written = write(fd, cursor, count);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;
        cursor += written;
        count -= (size_t)written;
    }
}

// Reports a failed step to the parent and exits like a shell: 127 when the program does not
// exist, 126 when it exists but cannot be run (or setup failed). Only async-signal-safe calls.
static void child_fail(int status_fd, int step, int error) {
    struct child_failure failure = { step, error };
    write_all(status_fd, &failure, sizeof failure);
    _exit(step == VPN_SPAWN_STEP_EXEC && error == ENOENT ? 127 : 126);
}

// Handlers do not survive exec, but ignored signals do: give the program every default back.
static int reset_signal_dispositions(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int signo = 1; signo < NSIG; signo++) {
        if (signo == SIGKILL || signo == SIGSTOP) continue;
        // glibc reserves two real-time signals for itself and refuses them with EINVAL.
        if (sigaction(signo, &action, NULL) != 0 && errno != EINVAL) return -1;
    }
    return 0;
}

// execve of `file`, or of each `dir/file` in `search_path` when `file` has no slash, with the
// shell's rules (execvp(3)): a missing or non-directory entry is skipped; EACCES is remembered
// and the search goes on; any other error stops it. Returns the errno to report.
static int exec_searching(const char *file, char *const argv[], char *const envp[],
                          const char *search_path) {
    if (file[0] == '\0') return ENOENT;
    if (strchr(file, '/') != NULL || search_path == NULL) {
        execve(file, argv, envp);
        return errno;
    }
    size_t file_length = strlen(file);
    char candidate[PATH_MAX];
    int denied = 0;
    const char *entry = search_path;
    while (1) {
        const char *end = strchr(entry, ':');
        size_t entry_length = end != NULL ? (size_t)(end - entry) : strlen(entry);
        // An empty entry means the current directory, as in the shell.
        const char *directory = entry_length > 0 ? entry : ".";
        size_t directory_length = entry_length > 0 ? entry_length : 1;
        if (directory_length + 1 + file_length < sizeof candidate) {
            memcpy(candidate, directory, directory_length);
            candidate[directory_length] = '/';
            memcpy(candidate + directory_length + 1, file, file_length + 1);
            execve(candidate, argv, envp);
            switch (errno) {
            case EACCES:
                denied = 1;
                break;
            case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: case ENAMETOOLONG:
                break;
            default:
                return errno;
            }
        }
        if (end == NULL) break;
        entry = end + 1;
    }
    return denied ? EACCES : ENOENT;
}

// Makes `descriptors` the child's 3, 4, ...: every source (and the status pipe) is first copied
// above that range, so placing one never overwrites another not yet placed; dup2 then leaves
// the placed copies without close-on-exec, and the others close at exec. Returns 0, or -1.
static int place_descriptors(const int *descriptors, int count, int *status_fd) {
    int above = 3 + count;
    if (*status_fd < above) {
        int moved = fcntl(*status_fd, F_DUPFD_CLOEXEC, above);
        if (moved < 0) return -1;
        *status_fd = moved;
    }
    int copies[VPN_SPAWN_MAX_DESCRIPTORS];
    for (int index = 0; index < count; index++) {
        copies[index] = fcntl(descriptors[index], F_DUPFD_CLOEXEC, above);
        if (copies[index] < 0) return -1;
    }
    for (int index = 0; index < count; index++) {
        if (dup2(copies[index], 3 + index) < 0) return -1;
    }
    return 0;
}

// Gives up what `privileges` asks, in an order that works: the bounding set while we
// still hold CAP_SETPCAP, the ids while we hold CAP_SETUID/CAP_SETGID (PR_SET_KEEPCAPS keeps the
// permitted set across the switch to a non-root uid), then the capability sets, then the
// ambient set (which the uid switch clears and which needs the capability in the permitted and
// inheritable sets). Returns 0, or -1 with errno set and `*step` the failed step.
//
// Raw system calls only: this child shares the parent's memory, and glibc's setuid, setgid and
// setgroups wrappers apply the change to every thread of the process through nptl's shared
// state ("setxid" broadcast), which must not happen from here. prctl and capset act on the
// calling task alone.
static int drop_privileges(const struct vpn_spawn_privileges *privileges, int *step) {
    uint64_t keep = privileges->capabilities;  // read only with limit_capabilities
    if (privileges->no_new_privs) {
        *step = VPN_SPAWN_STEP_NO_NEW_PRIVS;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    }
    if (privileges->limit_capabilities) {
        *step = VPN_SPAWN_STEP_BOUNDING_SET;
        for (int capability = 0; capability < 64; capability++) {
            if (keep & ((uint64_t)1 << capability)) continue;
            if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) == 0) continue;
            if (errno == EINVAL) break;  // past the kernel's last capability
            // Without CAP_SETPCAP the bounding set stays. It only bounds what a later exec
            // could gain, and with no_new_privs no exec gains anything; without it, fail.
            if (errno == EPERM && privileges->no_new_privs) break;
            return -1;
        }
        if (privileges->change_ids) {
            *step = VPN_SPAWN_STEP_KEEP_CAPS;
            if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return -1;
        }
    }
    if (privileges->change_ids) {
        *step = VPN_SPAWN_STEP_SETGROUPS;
        if (syscall(SYS_setgroups, 0, NULL) != 0) return -1;
        *step = VPN_SPAWN_STEP_SETRESGID;
        if (syscall(SYS_setresgid, privileges->gid, privileges->gid, privileges->gid) != 0) return -1;
        *step = VPN_SPAWN_STEP_SETRESUID;
        if (syscall(SYS_setresuid, privileges->uid, privileges->uid, privileges->uid) != 0) return -1;
    }
    if (privileges->limit_capabilities) {
        // Version 3: two 32-bit words per set. Dropping is always allowed; the kept ones are
        // still permitted (KEEPCAPS, or root all along).
        struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[2];
        for (int word = 0; word < 2; word++) {
            uint32_t bits = (uint32_t)(keep >> (32 * word));
            data[word].effective = data[word].permitted = data[word].inheritable = bits;
        }
        *step = VPN_SPAWN_STEP_CAPSET;
        if (syscall(SYS_capset, &header, data) != 0) return -1;
        // Exec under a non-root uid keeps only the ambient set (capabilities(7)).
        *step = VPN_SPAWN_STEP_AMBIENT;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return -1;
        for (int capability = 0; capability < 64; capability++) {
            if (!(keep & ((uint64_t)1 << capability))) continue;
            if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0) != 0) return -1;
        }
    }
    return 0;
}

static void run_child(const char *file, char *const argv[], char *const envp[],
                      const char *search_path, int flags, const int *descriptors,
                      int descriptor_count, const struct vpn_spawn_privileges *privileges,
                      int status_fd) {
    if (descriptor_count > 0 && place_descriptors(descriptors, descriptor_count, &status_fd) != 0) {
        child_fail(status_fd, VPN_SPAWN_STEP_DESCRIPTORS, errno);
    }
    if (reset_signal_dispositions() != 0) child_fail(status_fd, VPN_SPAWN_STEP_SIGNALS, errno);
    // Its own process group, so a signal to the group reaches the program and everything it
    // starts, and nothing of ours.
    if (setpgid(0, 0) != 0) child_fail(status_fd, VPN_SPAWN_STEP_SETPGID, errno);
    if ((flags & VPN_SPAWN_FOREGROUND) && isatty(STDIN_FILENO)) {
        // Errors are harmless (no controlling terminal); SIGTTOU is still blocked here, so a
        // background group may take the terminal (tcsetpgrp(3)).
        (void)tcsetpgrp(STDIN_FILENO, getpid());
    }
    if (flags & VPN_SPAWN_STDIN_NULL) {
        int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0) child_fail(status_fd, VPN_SPAWN_STEP_STDIN, errno);
        if (dup2(null_fd, STDIN_FILENO) < 0) child_fail(status_fd, VPN_SPAWN_STEP_STDIN, errno);
        if (null_fd != STDIN_FILENO) close(null_fd);
    }
    if (privileges != NULL) {
        int step = VPN_SPAWN_STEP_NONE;
        if (drop_privileges(privileges, &step) != 0) child_fail(status_fd, step, errno);
    }
    sigset_t empty;
    sigemptyset(&empty);
    if (sigprocmask(SIG_SETMASK, &empty, NULL) != 0) child_fail(status_fd, VPN_SPAWN_STEP_SIGNALS, errno);
    int error = exec_searching(file, argv, envp, search_path);
    child_fail(status_fd, VPN_SPAWN_STEP_EXEC, error);
}

// Everything the child needs, on the parent's stack (the child shares the parent's memory).
struct child_arguments {
    const char *file;
    char *const *argv;
    char *const *envp;
    const char *search_path;
    int flags;
    const int *descriptors;
    int descriptor_count;
    const struct vpn_spawn_privileges *privileges;
    int status_read_fd;
    int status_write_fd;
};

// The child's stack: exec_searching needs PATH_MAX bytes, the rest is small.
enum { CHILD_STACK_SIZE = 64 * 1024 };

static int child_main(void *argument) {
    const struct child_arguments *arguments = argument;
    close(arguments->status_read_fd);
    run_child(arguments->file, arguments->argv, arguments->envp, arguments->search_path, arguments->flags,
              arguments->descriptors, arguments->descriptor_count, arguments->privileges,
              arguments->status_write_fd);
    return 0;
}

void vpn_spawn(const char *file, char *const argv[], char *const envp[], const char *search_path,
               int flags, const int *descriptors, int descriptor_count,
               const struct vpn_spawn_privileges *privileges, struct vpn_spawn_result *result) {
    result->pid = 0;
    result->error = 0;
    result->step = VPN_SPAWN_STEP_NONE;
    if (descriptor_count < 0 || descriptor_count > VPN_SPAWN_MAX_DESCRIPTORS) {
        result->error = EINVAL;
        result->step = VPN_SPAWN_STEP_DESCRIPTORS;
        return;
    }

    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) {
        result->error = errno;
        result->step = VPN_SPAWN_STEP_PIPE;
        return;
    }
    // No signal may run a handler in the child before its dispositions are reset.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    // The child shares our memory until it execs or exits (CLONE_VM | CLONE_VFORK, as glibc's
    // posix_spawn does), on a stack of its own: no page tables are copied and no page of ours
    // becomes copy-on-write, which takes a large process like this one about half a millisecond
    // with fork. It has its own descriptor table and signal handlers (no CLONE_FILES or
    // CLONE_SIGHAND), and never returns into our frames.
    struct child_arguments arguments = {
        file, argv, envp, search_path, flags, descriptors, descriptor_count, privileges,
        status_pipe[0], status_pipe[1],
    };
    pid_t pid = -1;
    void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack != MAP_FAILED) {
        pid = clone(child_main, (char *)stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &arguments);
    }
    int fork_error = errno;
    if (stack != MAP_FAILED) munmap(stack, CHILD_STACK_SIZE);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(status_pipe[1]);
    if (pid < 0) {
        close(status_pipe[0]);
        result->error = fork_error;
        result->step = VPN_SPAWN_STEP_FORK;
        return;
    }
    result->pid = pid;

    // End-of-file: exec succeeded. A full record: the step that failed.
    struct child_failure failure;
    size_t received = 0;
    while (received < sizeof failure) {
        ssize_t count = read(status_pipe[0], (char *)&failure + received, sizeof failure - received);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) break;
        received += (size_t)count;
    }
    close(status_pipe[0]);
    if (received == sizeof failure) {
        result->error = failure.error;
        result->step = failure.step;
    }
}

const char *vpn_spawn_step_name(int step) {
    switch (step) {
    case VPN_SPAWN_STEP_NONE: return "none";
    case VPN_SPAWN_STEP_PIPE: return "pipe2";
    case VPN_SPAWN_STEP_FORK: return "fork";
    case VPN_SPAWN_STEP_SIGNALS: return "sigaction";
    case VPN_SPAWN_STEP_SETPGID: return "setpgid";
    case VPN_SPAWN_STEP_STDIN: return "open /dev/null";
    case VPN_SPAWN_STEP_EXEC: return "exec";
    case VPN_SPAWN_STEP_DESCRIPTORS: return "dup2";
    case VPN_SPAWN_STEP_NO_NEW_PRIVS: return "prctl PR_SET_NO_NEW_PRIVS";
    case VPN_SPAWN_STEP_BOUNDING_SET: return "prctl PR_CAPBSET_DROP";
    case VPN_SPAWN_STEP_KEEP_CAPS: return "prctl PR_SET_KEEPCAPS";
    case VPN_SPAWN_STEP_SETGROUPS: return "setgroups";
    case VPN_SPAWN_STEP_SETRESGID: return "setresgid";
    case VPN_SPAWN_STEP_SETRESUID: return "setresuid";
    case VPN_SPAWN_STEP_CAPSET: return "capset";
    case VPN_SPAWN_STEP_AMBIENT: return "prctl PR_CAP_AMBIENT";
    default: return "unknown";
    }
}
