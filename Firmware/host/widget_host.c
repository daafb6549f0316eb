/* Serves the emulated USB-Pro widget (core/rdm) on a pseudo-terminal. Prints
 * "port: /dev/pts/N" once ready; --link PATH also makes PATH a symlink to it. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "widget_host.h"

#include "../core/rdm/usbpro_widget.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: ledsentry-emu --mode widget [--drivers N] [--seed S] [--serial N]\n"
            "                    [--fault SPEC]... [--link PATH] [--list]\n"
            "  Emulates a USB-Pro-style DMX/RDM widget with N RDM LED drivers (default 4,\n"
            "  max %d) on a PTY and prints 'port: /dev/pts/N'.\n"
            "  --fault: sensor:D overtemp:D selftest:D lamp:D ack-timer:D ack-overflow:D\n"
            "           corrupt:D vanish:D@PACKETS collide:D widget-reset@FRAMES\n"
            "  --list:  print each driver's UID and faults after start-up\n",
            USBPRO_MAX_RESPONDERS);
}

static int write_all(int fd, const uint8_t *bytes, size_t count)
{
    while (count > 0) {
        ssize_t n = write(fd, bytes, count);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {fd, POLLOUT, 0};
                (void)poll(&p, 1, 100);
                continue;
            }
            return -1;
        }
        bytes += n;
        count -= (size_t)n;
    }
    return 0;
}

int lighting_widget_main(int argc, char **argv)
{
    static usbpro_widget widget;
    unsigned long drivers = 4, seed = 1, serial = 0x00A1B2C3;
    const char *link_path = NULL;
    const char *faults[64];
    int fault_count = 0, list = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--mode") == 0 && value) {
            if (strcmp(value, "widget") != 0) {
                fprintf(stderr, "ledsentry-emu: this entry point serves --mode widget only\n");
                return 2;
            }
            i++;
        } else if ((strcmp(a, "--drivers") == 0 || strcmp(a, "--responders") == 0) && value) {
            drivers = strtoul(value, &end, 10);
            if (*end || drivers > USBPRO_MAX_RESPONDERS) {
                fprintf(stderr, "ledsentry-emu: --drivers must be 0..%d\n", USBPRO_MAX_RESPONDERS);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--seed") == 0 && value) {
            seed = strtoul(value, &end, 0);
            if (*end) {
                fprintf(stderr, "ledsentry-emu: --seed needs a number\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--serial") == 0 && value) {
            serial = strtoul(value, &end, 0);
            if (*end) {
                fprintf(stderr, "ledsentry-emu: --serial needs a number\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--fault") == 0 && value) {
            if (fault_count == 64) {
                fprintf(stderr, "ledsentry-emu: at most 64 --fault options\n");
                return 2;
            }
            faults[fault_count++] = value;
            i++;
        } else if (strcmp(a, "--link") == 0 && value) {
            link_path = value;
            i++;
        } else if (strcmp(a, "--list") == 0) {
            list = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "ledsentry-emu: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    usbpro_widget_init(&widget, (unsigned)drivers, (uint32_t)seed, (uint32_t)serial);
    for (int f = 0; f < fault_count; f++) {
        char error[200];
        if (usbpro_widget_apply_fault(&widget, faults[f], error, sizeof error) != 0) {
            fprintf(stderr, "ledsentry-emu: %s\n", error);
            return 2;
        }
    }

    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        perror("ledsentry-emu: pty");
        return 3;
    }
    const char *slave_name = ptsname(master);
    /* Hold the slave open in raw mode: no echo before a client configures it, and no
     * hang-up on the master while no client is connected. */
    int slave = open(slave_name, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        perror("ledsentry-emu: open pty slave");
        return 3;
    }
    struct termios tio;
    if (tcgetattr(slave, &tio) == 0) {
        cfmakeraw(&tio);
        (void)tcsetattr(slave, TCSANOW, &tio);
    }
    (void)fchmod(slave, 0666); /* olad runs as its own user */
    if (link_path) {
        (void)unlink(link_path);
        if (symlink(slave_name, link_path) != 0) {
            perror("ledsentry-emu: --link");
            return 3;
        }
    }
    int flags = fcntl(master, F_GETFL);
    (void)fcntl(master, F_SETFL, flags | O_NONBLOCK);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("port: %s\n", slave_name);
    if (list) {
        for (unsigned i = 0; i < widget.responder_count; i++) {
            const rdm_responder *r = &widget.responders[i];
            printf("driver %u: %04X:%08X faults 0x%02X\n", i, r->uid.manufacturer,
                   (unsigned)r->uid.device, (unsigned)r->faults);
        }
    }
    fflush(stdout);

    uint8_t buffer[1024];
    while (!stop_requested) {
        struct pollfd p = {master, POLLIN, 0};
        int ready = poll(&p, 1, 50);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("ledsentry-emu: poll");
            break;
        }
        if (ready == 0)
            continue;
        ssize_t n = read(master, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == EIO) {
                if (errno == EIO)
                    usleep(10000); /* no client right now */
                continue;
            }
            perror("ledsentry-emu: read");
            break;
        }
        /* small slices so that replies to a burst of requests never overflow w->out */
        for (ssize_t at = 0; at < n; at += 32) {
            size_t slice = (size_t)(n - at) < 32 ? (size_t)(n - at) : 32;
            widget.out_length = 0;
            usbpro_widget_feed(&widget, buffer + at, slice, now_ms());
            if (widget.out_length && write_all(master, widget.out, widget.out_length) != 0 &&
                errno != EIO)
                perror("ledsentry-emu: write");
        }
    }
    if (link_path)
        (void)unlink(link_path);
    close(slave);
    close(master);
    return 0;
}
