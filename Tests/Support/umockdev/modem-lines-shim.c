/*
 * Test-only LD_PRELOAD shim: makes a pseudo-terminal answer ioctls like a real serial
 * port, so the real libserialport code can be driven through the umockdev testbed's
 * /dev/ttyUSB0 (a link to a PTY).
 *
 * 1. umockdev forwards every ioctl on a testbed device node to its handler, which
 *    refuses terminal ioctls (TIOCINQ, ...) with ENOTTY. For a terminal we then ask the
 *    kernel directly, so the PTY behind the node answers as a tty would, including EIO
 *    after a hang-up.
 * 2. A PTY has no modem lines: TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC fail with ENOTTY and
 *    libserialport's sp_open() gives up. Those are faked per fd.
 *
 * It must come first in LD_PRELOAD: umockdev-run appends its own library, and ours
 * then forwards to it through RTLD_NEXT. Never linked into the product.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#define MAX_FDS 4096
/* Lines a connected adapter reports: DTR/RTS as set by the host, CTS/DSR/CD asserted. */
#define DEFAULT_LINES (TIOCM_DTR | TIOCM_RTS | TIOCM_CTS | TIOCM_DSR | TIOCM_CD)

static int lines[MAX_FDS];
static unsigned char lines_known[MAX_FDS];

static int fake_modem_ioctl(int fd, unsigned long request, int *arg)
{
    if (fd < 0 || fd >= MAX_FDS || arg == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (!lines_known[fd]) {
        lines[fd] = DEFAULT_LINES;
        lines_known[fd] = 1;
    }
    switch (request) {
    case TIOCMGET: *arg = lines[fd]; break;
    case TIOCMSET: lines[fd] = *arg; break;
    case TIOCMBIS: lines[fd] |= *arg; break;
    case TIOCMBIC: lines[fd] &= ~*arg; break;
    }
    return 0;
}

int ioctl(int fd, unsigned long request, ...)
{
    static int (*next_ioctl)(int, unsigned long, ...);
    va_list ap;
    void *arg;
    int result, saved;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);

    if (next_ioctl == NULL)
        next_ioctl = (int (*)(int, unsigned long, ...)) dlsym(RTLD_NEXT, "ioctl");
    result = next_ioctl(fd, request, arg);
    if (result != -1 || (errno != ENOTTY && errno != EINVAL) || !isatty(fd))
        return result;
    result = (int) syscall(SYS_ioctl, fd, request, arg);
    if (result != -1 || (errno != ENOTTY && errno != EINVAL))
        return result;
    saved = errno;
    switch (request) {
    case TIOCMGET: case TIOCMSET: case TIOCMBIS: case TIOCMBIC:
        return fake_modem_ioctl(fd, request, (int *) arg);
    }
    errno = saved;
    return result;
}
