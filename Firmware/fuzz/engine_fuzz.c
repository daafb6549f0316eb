/* libFuzzer target: the whole protocol engine. The input is read as a sequence of requests
 * (flags, command, payload length, payload, pause) wrapped in valid frames, so fuzzing
 * reaches the command handlers instead of stopping at the CRC. Every device answer must be
 * a well-formed frame. */
#include "../core/engine.h"
#include "../core/frame.h"
#include <stdlib.h>
#include <string.h>

static ls_decoder replies;

static void check_reply(void *context, const ls_frame *f)
{
    (void)context;
    if (!(f->flags & LS_FLAG_RESPONSE) || f->version != 1) abort();
}

static void output(void *context, const uint8_t *bytes, size_t count)
{
    (void)context;
    ls_decoder_feed(&replies, bytes, count, 0, check_reply, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const specs[] = {"dead-led cabinet=0 x=1 y=1", "chain-break cabinet=1 after=0",
                                        "missing-ic cabinet=2 module=1 ic=2",
                                        "over-temperature cabinet=3 celsius=90 after=1"};
    ls_geometry g = {2, 2, 2, 2, 16, 8};
    ls_fault faults[4];
    char error[128];
    for (int i = 0; i < 4; i++)
        if (ls_fault_parse(specs[i], &g, &faults[i], error, sizeof error) != 0) abort();
    ls_device_config config = {g, 1, NULL, NULL};
    ls_decoder_init(&replies);
    ls_engine *e = ls_engine_create(&config, faults, 4, output, NULL, 0, error, sizeof error);
    if (!e) abort();
    uint64_t now = 0;
    size_t i = 0;
    while (i + 3 <= size) {
        uint8_t flags = data[i] & 0x07, command = data[i + 1], length = data[i + 2];
        i += 3;
        if (length > size - i) length = (uint8_t)(size - i);
        uint8_t frame[LS_MAX_FRAME];
        ls_frame f = {(data[i - 3] & 0x80) ? 2 : 1, flags, (uint16_t)(i & 0x0F), command, 0,
                      length, data + i};
        size_t n = ls_frame_encode(&f, frame, sizeof frame);
        ls_engine_receive(e, frame, n, now);
        i += length;
        now += (data[i - 1 < size ? i - 1 : 0] & 0x40) ? 700 : 3;
        ls_engine_tick(e, now);
    }
    ls_engine_tick(e, now + 3000);
    ls_engine_destroy(e);
    return 0;
}
