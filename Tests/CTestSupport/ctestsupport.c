#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "ctestsupport.h"
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/engine.h>

int trackerd_test_open_pty(char *name, size_t length) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, name, length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int trackerd_test_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

void trackerd_test_register_all_engines(void) { ENGINE_register_all_complete(); }
