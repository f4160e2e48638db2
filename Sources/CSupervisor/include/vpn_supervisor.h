// Process spawning for the supervisor: everything between fork and exec happens here, in C,
// so no Swift code (no allocation, no runtime locks) runs in the child before exec.
#ifndef VPN_SUPERVISOR_H
#define VPN_SUPERVISOR_H

#include <stdint.h>
#include <sys/types.h>

/// Flags for `vpn_spawn`.
enum {
    /// The child's standard input is /dev/null instead of the parent's.
    VPN_SPAWN_STDIN_NULL = 1 << 0,
    /// When standard input is a terminal, the child's process group becomes its foreground group.
    VPN_SPAWN_FOREGROUND = 1 << 1,
};

/// The step of `vpn_spawn` that failed, reported in `vpn_spawn_result.step`.
enum {
    VPN_SPAWN_STEP_NONE = 0,
    VPN_SPAWN_STEP_PIPE,
    VPN_SPAWN_STEP_FORK,
    VPN_SPAWN_STEP_SIGNALS,
    VPN_SPAWN_STEP_SETPGID,
    VPN_SPAWN_STEP_STDIN,
    VPN_SPAWN_STEP_EXEC,
    VPN_SPAWN_STEP_DESCRIPTORS,
    VPN_SPAWN_STEP_NO_NEW_PRIVS,
    VPN_SPAWN_STEP_BOUNDING_SET,
    VPN_SPAWN_STEP_KEEP_CAPS,
    VPN_SPAWN_STEP_SETGROUPS,
    VPN_SPAWN_STEP_SETRESGID,
    VPN_SPAWN_STEP_SETRESUID,
    VPN_SPAWN_STEP_CAPSET,
    VPN_SPAWN_STEP_AMBIENT,
};

/// What a child gives up before exec (`vpn_spawn`'s `privileges`); a failed step is reported
/// like any other, and the program is then never run.
struct vpn_spawn_privileges {
    /// Sets no_new_privs: exec never grants privileges (set-user-ID bits and file capabilities
    /// are ignored), for the program and everything it starts.
    int no_new_privs;
    /// Switches to `uid` and `gid` (real, effective and saved) with no supplementary groups.
    int change_ids;
    uid_t uid;
    gid_t gid;
    /// Limits capabilities to `capabilities` (bit N is capability N): the program runs with
    /// exactly those in its permitted, effective, inheritable and ambient sets (ambient, so they
    /// survive exec under a non-root uid), and the bounding set loses every other one.
    int limit_capabilities;
    uint64_t capabilities;
};

/// The most descriptors `vpn_spawn` hands to a child.
enum { VPN_SPAWN_MAX_DESCRIPTORS = 16 };

/// The outcome of `vpn_spawn`.
struct vpn_spawn_result {
    /// The child's process ID, or 0 when no child was created (pipe or fork failed). A child
    /// whose setup or exec failed exists: it exits with 127 (ENOENT) or 126 and must be reaped.
    pid_t pid;
    /// The errno of the failed step, or 0 when the child is running the new program.
    int error;
    /// The failed step (`VPN_SPAWN_STEP_*`), or `VPN_SPAWN_STEP_NONE`.
    int step;
};

/// Starts `file` with `argv` and `envp` in a new process, in its own process group, with all
/// signal handlers reset to their defaults and an empty signal mask; returns when the child has
/// exec'd the program or failed to. A `file` without a slash is searched for in `search_path`
/// (a colon-separated list, as the shell does with PATH). Standard output and error are
/// inherited. The `descriptor_count` (at most `VPN_SPAWN_MAX_DESCRIPTORS`) descriptors of
/// `descriptors` become the program's descriptors 3, 4, ... in that order, without
/// close-on-exec; the caller's own copies are left open. The corresponding C functions are
/// `fork`, `setpgid`, `dup2` and `execve`. A non-NULL `privileges` is applied just before exec.
void vpn_spawn(const char *file, char *const argv[], char *const envp[], const char *search_path,
               int flags, const int *descriptors, int descriptor_count,
               const struct vpn_spawn_privileges *privileges, struct vpn_spawn_result *result);

/// The name of a `VPN_SPAWN_STEP_*` value, e.g. `exec`.
const char *vpn_spawn_step_name(int step);

/// Makes the calling process the reaper of its orphaned descendants (the corresponding C call is
/// `prctl(PR_SET_CHILD_SUBREAPER, 1)`). Returns 0, or -1 with errno set.
int vpn_set_child_subreaper(void);

/// A file descriptor that becomes readable when the process exits (the corresponding C function
/// is `pidfd_open`), or -1 with errno set.
int vpn_pidfd_open(pid_t pid);

/// Decodes a wait status (the C macros `WIFEXITED`, `WEXITSTATUS`, `WIFSIGNALED`, `WTERMSIG`):
/// 1 with `*value` the exit code, 2 with `*value` the signal number, 0 for any other status.
int vpn_wait_status_decode(int status, int *value);

#endif
