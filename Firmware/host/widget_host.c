/* `ledsentry-emu --mode widget`: the emulated USB-Pro RDM widget (core/rdm) served on a
 * PTY (or socket) by the shared serve code. Prints "port: /dev/pts/N". */
#define _POSIX_C_SOURCE 200809L
#include "widget_host.h"

#include "../core/rdm/usbpro_widget.h"
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char widget_usage[] =
    "usage: ledsentry-emu --mode widget [options]\n"
    "\n"
    "Emulates a USB-Pro-style DMX/RDM widget (Enttec framing; labels 3, 10, 14, 77, 78 and\n"
    "RDM on 7/11, replies on 5/12, firmware 4.15) with RDM LED drivers behind it, and serves\n"
    "it on a new pseudo-terminal until SIGTERM or SIGINT. Prints `port: /dev/pts/N`.\n"
    "\n"
    "  --drivers N          RDM drivers on the line, 0..64 (default 4)\n"
    "  --seed N             seeds UIDs, counters and readings (default 1): same seed, same line\n"
    "  --serial N           widget serial number (default 0x20260001)\n"
    "  --link PATH          also create a symlink PATH -> the PTY (removed on exit)\n"
    "  --socket PATH        serve on a UNIX stream socket instead\n"
    "  --list               print each driver's UID and fault bits on stdout after the port\n"
    "  --fault SPEC         repeatable; D is a driver index (0-based):\n"
    "      sensor:D         output-current sensor reads 0 mA (below normal), STS_SENS_OUT_RANGE\n"
    "      overtemp:D       heatsink 97-99 C (normal 0..85), STS_OVERTEMP error\n"
    "      selftest:D       self-test 1 (and 'all') fails: status 0x8002\n"
    "      lamp:D           LAMP_STATE error, STS_LAMP_DOUSED\n"
    "      ack-timer:D      measurements answered ACK_TIMER (200 ms), then via QUEUED_MESSAGE\n"
    "      ack-overflow:D   replies longer than 16 bytes split with ACK_OVERFLOW\n"
    "      corrupt:D        about one reply in three has a damaged byte\n"
    "      vanish:D@N       stops answering after hearing N packets\n"
    "      collide:D        takes the UID next to another driver's (discovery collides to the last bit)\n"
    "      widget-reset@N   the widget resets on its Nth frame (request lost, drivers un-muted)\n";

typedef struct {
    usbpro_widget widget;
    serve *port;
} widget_emulator;

static void on_widget_receive(void *context, const uint8_t *bytes, size_t count, uint64_t now_ms)
{
    widget_emulator *emu = context;
    /* small slices, so that replies to a burst of requests never overflow the out buffer */
    for (size_t at = 0; at < count; at += 32) {
        size_t slice = count - at < 32 ? count - at : 32;
        emu->widget.out_length = 0;
        usbpro_widget_feed(&emu->widget, bytes + at, slice, (uint32_t)now_ms);
        if (emu->widget.out_length)
            serve_send(emu->port, emu->widget.out, emu->widget.out_length);
    }
}

static void on_widget_tick(void *context, uint64_t now_ms)
{
    (void)context;
    (void)now_ms; /* the drivers keep time from the requests they hear */
}

static int widget_usage_error(const char *message, const char *detail)
{
    fprintf(stderr, "ledsentry-emu: %s%s%s\nTry `ledsentry-emu --mode widget --help`.\n", message,
            detail ? ": " : "", detail ? detail : "");
    return 2;
}

static int parse_number(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    *out = strtoul(text, &end, 0);
    return (*text && *end == '\0' && !errno && text[0] != '-' && *out <= max) ? 0 : -1;
}

int lighting_widget_main(int argc, char **argv)
{
    static widget_emulator emu;
    unsigned long drivers = 4, seed = 1, serial = 0x20260001;
    serve_options port = {0};
    const char *faults[64];
    int fault_count = 0, list = 0;

    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            fputs(widget_usage, stdout);
            return 0;
        }
        if (strcmp(flag, "--list") == 0) {
            list = 1;
            continue;
        }
        if (i + 1 >= argc)
            return widget_usage_error("unknown option or missing value", flag);
        const char *value = argv[++i];
        if (strcmp(flag, "--mode") == 0) {
            if (strcmp(value, "widget") != 0)
                return widget_usage_error("expected --mode widget, got", value);
        } else if (strcmp(flag, "--drivers") == 0) {
            if (parse_number(value, USBPRO_MAX_RESPONDERS, &drivers) != 0)
                return widget_usage_error("--drivers wants 0..64, got", value);
        } else if (strcmp(flag, "--seed") == 0) {
            if (parse_number(value, 0xFFFFFFFFul, &seed) != 0)
                return widget_usage_error("--seed wants a non-negative 32-bit integer, got", value);
        } else if (strcmp(flag, "--serial") == 0) {
            if (parse_number(value, 0xFFFFFFFFul, &serial) != 0)
                return widget_usage_error("--serial wants a 32-bit integer, got", value);
        } else if (strcmp(flag, "--fault") == 0) {
            if (fault_count == 64)
                return widget_usage_error("too many --fault options", NULL);
            faults[fault_count++] = value;
        } else if (strcmp(flag, "--link") == 0) {
            port.link_path = value;
        } else if (strcmp(flag, "--socket") == 0) {
            port.socket_path = value;
        } else {
            return widget_usage_error("unknown option", flag);
        }
    }
    if (port.link_path && port.socket_path)
        return widget_usage_error("--link applies to the PTY; it cannot be used with --socket", NULL);

    usbpro_widget_init(&emu.widget, (unsigned)drivers, (uint32_t)seed, (uint32_t)serial);
    char error[256];
    for (int f = 0; f < fault_count; f++)
        if (usbpro_widget_apply_fault(&emu.widget, faults[f], error, sizeof error) != 0)
            return widget_usage_error("bad --fault", error);
    port.seed = seed;
    emu.port = serve_open(&port, error, sizeof error);
    if (!emu.port) {
        fprintf(stderr, "ledsentry-emu: %s\n", error);
        return 3;
    }
    if (list) {
        for (unsigned i = 0; i < emu.widget.responder_count; i++) {
            const rdm_responder *r = &emu.widget.responders[i];
            printf("driver %u: %04X:%08X faults 0x%02X\n", i, r->uid.manufacturer,
                   (unsigned)r->uid.device, (unsigned)r->faults);
        }
        fflush(stdout);
    }
    fprintf(stderr, "ledsentry-emu: USB-Pro widget with %lu RDM driver(s), seed %lu, %d fault(s)\n",
            drivers, seed, fault_count);
    serve_handler handler = {&emu, on_widget_receive, on_widget_tick, NULL, NULL};
    int status = serve_run(emu.port, &handler);
    serve_close(emu.port);
    return status;
}
