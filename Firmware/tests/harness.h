/* Drives an engine in-process: requests in, decoded responses and events out, on a clock
 * the test controls. */
#ifndef LS_HARNESS_H
#define LS_HARNESS_H
#include "../core/engine.h"
#include "../core/frame.h"
#include <stddef.h>
#include <stdint.h>

#define HARNESS_MAX_FRAMES 64

typedef struct {
    ls_frame frame;
    uint8_t payload[LS_MAX_PAYLOAD];
    uint8_t raw[LS_MAX_FRAME];
    size_t raw_size;
} captured_frame;

typedef struct {
    ls_engine *engine;
    uint64_t now_ms;
    ls_decoder decoder;  /* parses what the device sent */
    uint8_t sent[65536]; /* raw device output since the last harness_take */
    size_t sent_size;
    captured_frame frames[HARNESS_MAX_FRAMES];
    size_t frame_count;
} harness;

/* Default geometry 2x2 cabinets, 2x2 modules, 64x32; seed 1; faults as SPEC strings
 * (NULL-terminated list). Fails the test and returns -1 on a bad spec. */
int harness_start(harness *h, const ls_geometry *geometry, uint64_t seed, const char *const *faults);
void harness_stop(harness *h);
/* Advances the emulated clock. */
void harness_wait(harness *h, uint64_t ms);
/* Encodes and sends a request; returns the frame's size and leaves its bytes in out if given. */
size_t harness_send(harness *h, uint8_t flags, uint16_t id, uint8_t command, const void *payload,
                    size_t length, uint8_t *out);
/* Sends a request and returns the response to it (ignoring events), or NULL if none came
 * within wait_ms of emulated time. */
const captured_frame *harness_call(harness *h, uint16_t id, uint8_t command, const void *payload,
                                   size_t length);
/* Decodes everything the device sent since the last call into h->frames. */
void harness_collect(harness *h);
/* Forgets collected frames and sent bytes. */
void harness_clear(harness *h);

ls_geometry harness_default_geometry(void);
/* hex string of bytes (static buffer) */
const char *hex(const uint8_t *bytes, size_t count);

#endif
