/* Serves one byte-stream device on a pseudo-terminal or a UNIX stream socket until SIGTERM or
 * SIGINT. Protocol-agnostic: a device is a byte handler plus a clock tick, so the controller
 * emulator and other device emulators (e.g. a DMX widget) share this code. The link faults
 * (flaky bytes, slow responses, unplug) are applied here, between the wire and the device. */
#ifndef LS_SERVE_H
#define LS_SERVE_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *socket_path; /* NULL: serve on a new PTY */
    const char *link_path;   /* PTY only: a symlink to the slave, removed on exit */
    uint32_t drop_ppm;       /* per byte, both directions */
    uint32_t corrupt_ppm;    /* per byte, both directions: one bit flipped */
    uint32_t slow_ms;        /* delay before each device output goes on the wire */
    uint32_t unplug_after_ms;/* 0: never; else hang up (close the port) and stop */
    uint64_t seed;
} serve_options;

typedef struct {
    void *context;
    /* Bytes from the client (after link faults). */
    void (*receive)(void *context, const uint8_t *bytes, size_t count, uint64_t now_ms);
    /* Called at least every `idle_ms` (at most 10 ms apart). */
    void (*tick)(void *context, uint64_t now_ms);
    uint32_t (*idle_ms)(void *context, uint64_t now_ms); /* optional */
    void (*connected)(void *context, uint64_t now_ms);   /* optional: a socket client arrived */
} serve_handler;

typedef struct serve serve;

/* Monotonic milliseconds since the process started. */
uint64_t serve_now_ms(void);

/* Opens the port and prints exactly one line on stdout: `port: /dev/pts/N` or
 * `socket: PATH`. Returns NULL with a message in error. */
serve *serve_open(const serve_options *options, char *error, size_t error_size);

/* Queues device output (dropped while no socket client is connected). */
void serve_send(serve *s, const uint8_t *bytes, size_t count);

/* Runs until a signal or the unplug time; returns 0, or 3 on an I/O error. */
int serve_run(serve *s, const serve_handler *handler);

/* Closes the port and removes the symlink or socket file. */
void serve_close(serve *s);

#endif
