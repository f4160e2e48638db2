#define _GNU_SOURCE
#include "vpn_supervisor.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int vpn_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
}

int vpn_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int vpn_wait_status_decode(int status, int *value) {
    if (WIFEXITED(status)) {
        *value = WEXITSTATUS(status);
        return 1;
    }
    if (WIFSIGNALED(status)) {
        *value = WTERMSIG(status);
        return 2;
    }
    *value = 0;
    return 0;
}
