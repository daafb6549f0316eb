/* ledsentry-emu: the reference controller firmware running on a PC, serving protocol v1 on a
 * pseudo-terminal or a UNIX socket, with faults injected from flags or a file. */
#define _POSIX_C_SOURCE 200809L
#include "../core/engine.h"
#include "../core/faults.h"
#include "serve.h"
#include "widget_host.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_USAGE = 2, EXIT_DEVICE = 3, EXIT_BAD_FILE = 4 };

static const char usage[] =
    "usage: ledsentry-emu [options]\n"
    "\n"
    "Emulates a LEDSentry display controller (a sending card and a chain of cabinets) and\n"
    "serves controller protocol v1 on a new pseudo-terminal until SIGTERM or SIGINT.\n"
    "Prints one line on stdout: `port: /dev/pts/N` (or `socket: PATH`); diagnostics go to\n"
    "stderr.\n"
    "\n"
    "Port:\n"
    "  --link PATH          also create a symlink PATH -> the PTY (removed on exit)\n"
    "  --socket PATH        serve on a UNIX stream socket instead (one client at a time)\n"
    "Wall:\n"
    "  --cabinets CxR       cabinets across x down (default 2x2)\n"
    "  --modules MxN        modules per cabinet, across x down (default 2x2)\n"
    "  --module-size WxH    LEDs per module (default 64x32)\n"
    "  --model TEXT         sending card model (default LS-SC400)\n"
    "  --serial TEXT        sending card serial (default derived from the seed)\n"
    "  --seed N             seeds serials, telemetry and link faults (default 1)\n"
    "Faults (see Firmware/README.md):\n"
    "  --fault SPEC         inject one fault, repeatable, e.g.\n"
    "                       --fault 'dead-led cabinet=0 x=10 y=5 channel=red'\n"
    "  --faults FILE        inject one fault per line of FILE (# starts a comment)\n"
    "Optical truth:\n"
    "  --frame-out FILE     keep FILE (binary PPM, one pixel per LED, seen from the front)\n"
    "                       showing what the wall emits; rewritten when it changes\n"
    "  --mode controller    the device to emulate: `controller` (default) or `widget`, a\n"
    "                       USB-Pro DMX/RDM widget with LED drivers (--mode widget --help)\n"
    "  --help               show this help\n"
    "\n"
    "Exit codes: 0 stopped by a signal or unplug-after, 2 usage, 3 port error,\n"
    "4 bad fault file.\n";

static int usage_error(const char *message, const char *detail)
{
    fprintf(stderr, "ledsentry-emu: %s%s%s\nTry `ledsentry-emu --help`.\n", message,
            detail ? ": " : "", detail ? detail : "");
    return EXIT_USAGE;
}

/* "AxB" with both in 1..max. */
static int parse_pair(const char *text, unsigned long max, unsigned long *a, unsigned long *b)
{
    char *end;
    errno = 0;
    *a = strtoul(text, &end, 10);
    if (end == text || *end != 'x' || errno) return -1;
    const char *second = end + 1;
    *b = strtoul(second, &end, 10);
    if (end == second || *end != '\0' || errno) return -1;
    return (*a >= 1 && *a <= max && *b >= 1 && *b <= max && text[0] != '-' && second[0] != '-') ? 0 : -1;
}

typedef struct {
    ls_fault faults[LS_MAX_FAULTS];
    size_t count;
} fault_list;

static int add_fault(fault_list *list, const char *spec, const ls_geometry *g, char *error,
                     size_t size)
{
    if (list->count == LS_MAX_FAULTS) {
        snprintf(error, size, "more than %u faults", (unsigned)LS_MAX_FAULTS);
        return -1;
    }
    return ls_fault_parse(spec, g, &list->faults[list->count++], error, size);
}

static int load_fault_file(fault_list *list, const char *path, const ls_geometry *g)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "ledsentry-emu: cannot read fault file %s: %s\n", path, strerror(errno));
        return EXIT_BAD_FILE;
    }
    char line[512], error[256];
    for (unsigned number = 1; fgets(line, sizeof line, file); number++) {
        if (!strchr(line, '\n') && !feof(file)) {
            fprintf(stderr, "ledsentry-emu: %s:%u: line longer than %zu bytes\n", path, number,
                    sizeof line - 2);
            fclose(file);
            return EXIT_BAD_FILE;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        if (strspn(line, " \t\r\n") == strlen(line)) continue;
        if (add_fault(list, line, g, error, sizeof error) != 0) {
            fprintf(stderr, "ledsentry-emu: %s:%u: %s\n", path, number, error);
            fclose(file);
            return EXIT_BAD_FILE;
        }
    }
    fclose(file);
    return 0;
}

typedef struct {
    ls_engine *engine;
    serve *port;
    const char *frame_path;
    uint32_t frame_version;
    int frame_written;
} emulator;

/* Writes the wall's light as a binary PPM, via a temporary file so readers never see half. */
static void write_frame(emulator *emu)
{
    const ls_device *d = ls_engine_device(emu->engine);
    uint32_t version = ls_device_display_version(d);
    if (emu->frame_written && version == emu->frame_version) return;
    uint32_t width = ls_device_wall_width(d), height = ls_device_wall_height(d);
    size_t size = (size_t)width * height * 3u;
    uint8_t *rgb = malloc(size);
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", emu->frame_path);
    FILE *file = rgb ? fopen(temporary, "wb") : NULL;
    int ok = file != NULL && ls_device_render(d, rgb, (size_t)width * 3u, size) == 0 &&
             fprintf(file, "P6\n%u %u\n255\n", width, height) > 0 &&
             fwrite(rgb, 1, size, file) == size;
    if (file && fclose(file) != 0) ok = 0;
    if (ok && rename(temporary, emu->frame_path) != 0) ok = 0;
    if (!ok) fprintf(stderr, "ledsentry-emu: cannot write --frame-out %s: %s\n", emu->frame_path, strerror(errno));
    free(rgb);
    emu->frame_version = version;
    emu->frame_written = 1;
}

static void engine_output(void *context, const uint8_t *bytes, size_t count)
{
    emulator *emu = context;
    if (emu->port) serve_send(emu->port, bytes, count);
}
static void on_receive(void *context, const uint8_t *bytes, size_t count, uint64_t now_ms)
{
    emulator *emu = context;
    ls_engine_receive(emu->engine, bytes, count, now_ms);
    if (emu->frame_path) write_frame(emu);
}
static void on_tick(void *context, uint64_t now_ms)
{
    emulator *emu = context;
    ls_engine_tick(emu->engine, now_ms);
    if (emu->frame_path) write_frame(emu);
}
static void on_connect(void *context, uint64_t now_ms)
{
    (void)now_ms;
    ls_engine_link_reset(((emulator *)context)->engine);
}
static uint32_t on_idle(void *context, uint64_t now_ms)
{
    return ls_engine_idle_ms(((emulator *)context)->engine, now_ms);
}

int main(int argc, char **argv)
{
    ls_geometry geometry = {2, 2, 2, 2, 64, 32};
    ls_device_config config = {geometry, 1, NULL, NULL};
    serve_options port = {0};
    const char *fault_file = NULL, *frame_path = NULL;
    const char *specs[LS_MAX_FAULTS];
    size_t spec_count = 0;

    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--mode") == 0 && strcmp(argv[i + 1], "widget") == 0)
            return lighting_widget_main(argc, argv);

    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            if (strncmp(flag, "--", 2) != 0) return usage_error("unexpected argument", flag);
            static const char *const known[] = {"--cabinets", "--modules", "--module-size",
                                                "--seed", "--faults", "--fault", "--model",
                                                "--serial", "--link", "--socket", "--mode",
                                                "--frame-out"};
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                if (strcmp(flag, known[k]) == 0) return usage_error("missing value for", flag);
            return usage_error("unknown option", flag);
        }
        const char *value = argv[++i];
        unsigned long a, b;
        if (strcmp(flag, "--cabinets") == 0) {
            if (parse_pair(value, 256, &a, &b) != 0 || a * b > LS_MAX_CABINETS)
                return usage_error("--cabinets wants CxR with at most 256 cabinets, got", value);
            geometry.cabinet_columns = (uint16_t)a;
            geometry.cabinet_rows = (uint16_t)b;
        } else if (strcmp(flag, "--modules") == 0) {
            if (parse_pair(value, 255, &a, &b) != 0 || a * b > LS_MAX_MODULES_PER_CABINET)
                return usage_error("--modules wants MxN with at most 170 modules, got", value);
            geometry.modules_x = (uint8_t)a;
            geometry.modules_y = (uint8_t)b;
        } else if (strcmp(flag, "--module-size") == 0) {
            if (parse_pair(value, LS_MAX_MODULE_SIDE, &a, &b) != 0)
                return usage_error("--module-size wants WxH, each 1..1024, got", value);
            geometry.module_width = (uint16_t)a;
            geometry.module_height = (uint16_t)b;
        } else if (strcmp(flag, "--seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long seed = strtoull(value, &end, 0);
            if (*value == '\0' || *end != '\0' || errno || value[0] == '-')
                return usage_error("--seed wants a non-negative integer, got", value);
            config.seed = seed;
        } else if (strcmp(flag, "--faults") == 0) {
            fault_file = value;
        } else if (strcmp(flag, "--fault") == 0) {
            if (spec_count == LS_MAX_FAULTS) return usage_error("too many --fault options", NULL);
            specs[spec_count++] = value;
        } else if (strcmp(flag, "--model") == 0 || strcmp(flag, "--serial") == 0) {
            if (strlen(value) > LS_MAX_STRING)
                return usage_error("model and serial are at most 64 bytes, got", value);
            *(flag[2] == 'm' ? &config.model : &config.serial) = value;
        } else if (strcmp(flag, "--link") == 0) {
            port.link_path = value;
        } else if (strcmp(flag, "--socket") == 0) {
            port.socket_path = value;
        } else if (strcmp(flag, "--frame-out") == 0) {
            frame_path = value;
        } else if (strcmp(flag, "--mode") == 0) {
            if (strcmp(value, "controller") != 0)
                return usage_error("unknown --mode (known: controller, widget)", value);
        } else {
            return usage_error("unknown option", flag);
        }
    }
    if (port.link_path && port.socket_path)
        return usage_error("--link applies to the PTY; it cannot be used with --socket", NULL);
    config.geometry = geometry;

    static fault_list faults;
    char error[256];
    if (fault_file) {
        int status = load_fault_file(&faults, fault_file, &geometry);
        if (status != 0) return status;
    }
    for (size_t i = 0; i < spec_count; i++)
        if (add_fault(&faults, specs[i], &geometry, error, sizeof error) != 0)
            return usage_error("bad --fault", error);

    /* Link faults act between the wire and the device: hand them to the port. */
    for (size_t i = 0; i < faults.count; i++) {
        const ls_fault *f = &faults.faults[i];
        if (f->kind == LS_FAULT_FLAKY_LINK) {
            port.drop_ppm = f->drop_ppm;
            port.corrupt_ppm = f->corrupt_ppm;
        } else if (f->kind == LS_FAULT_SLOW_RESPONSE) {
            port.slow_ms = (uint32_t)f->value;
        } else if (f->kind == LS_FAULT_UNPLUG_AFTER) {
            port.unplug_after_ms = f->after_ms ? f->after_ms : 1;
        }
    }
    port.seed = config.seed;

    static emulator emu;
    emu.frame_path = frame_path;
    emu.engine = ls_engine_create(&config, faults.faults, faults.count, engine_output, &emu,
                                  serve_now_ms(), error, sizeof error);
    if (!emu.engine) return usage_error("bad configuration", error);
    emu.port = serve_open(&port, error, sizeof error);
    if (!emu.port) {
        fprintf(stderr, "ledsentry-emu: %s\n", error);
        return EXIT_DEVICE;
    }
    fprintf(stderr, "ledsentry-emu: %ux%u cabinets of %ux%u modules of %ux%u LEDs, seed %llu, %zu fault(s)\n",
            geometry.cabinet_columns, geometry.cabinet_rows, geometry.modules_x, geometry.modules_y,
            geometry.module_width, geometry.module_height, (unsigned long long)config.seed,
            faults.count);
    serve_handler handler = {&emu, on_receive, on_tick, on_idle, on_connect};
    int status = serve_run(emu.port, &handler);
    serve_close(emu.port);
    ls_engine_destroy(emu.engine);
    return status;
}
