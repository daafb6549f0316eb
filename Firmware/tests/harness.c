#include "harness.h"
#include "check.h"
#include <string.h>

static void capture(void *context, const uint8_t *bytes, size_t count)
{
    harness *h = context;
    if (h->sent_size + count > sizeof h->sent) {
        fprintf(stderr, "  harness: device output overflow\n");
        check_failures++;
        return;
    }
    memcpy(h->sent + h->sent_size, bytes, count);
    h->sent_size += count;
}

ls_geometry harness_default_geometry(void)
{
    ls_geometry g = {2, 2, 2, 2, 64, 32};
    return g;
}

int harness_start(harness *h, const ls_geometry *geometry, uint64_t seed, const char *const *specs)
{
    static ls_fault faults[LS_MAX_FAULTS];
    size_t count = 0;
    char error[256];
    memset(h, 0, sizeof *h);
    ls_geometry g = geometry ? *geometry : harness_default_geometry();
    for (; specs && specs[count]; count++) {
        if (ls_fault_parse(specs[count], &g, &faults[count], error, sizeof error) != 0) {
            fprintf(stderr, "  harness: bad fault '%s': %s\n", specs[count], error);
            check_failures++;
            return -1;
        }
    }
    ls_device_config config = {g, seed, NULL, NULL};
    h->now_ms = 0;
    h->engine = ls_engine_create(&config, faults, count, capture, h, 0, error, sizeof error);
    if (!h->engine) {
        fprintf(stderr, "  harness: %s\n", error);
        check_failures++;
        return -1;
    }
    ls_decoder_init(&h->decoder);
    return 0;
}

void harness_stop(harness *h)
{
    ls_engine_destroy(h->engine);
    h->engine = NULL;
}

void harness_wait(harness *h, uint64_t ms)
{
    for (uint64_t end = h->now_ms + ms; h->now_ms < end;) {
        h->now_ms += (end - h->now_ms) < 5u ? (end - h->now_ms) : 5u;
        ls_engine_tick(h->engine, h->now_ms);
    }
}

size_t harness_send(harness *h, uint8_t flags, uint16_t id, uint8_t command, const void *payload,
                    size_t length, uint8_t *out)
{
    uint8_t frame[LS_MAX_FRAME + 64];
    ls_frame f = {LS_PROTOCOL_VERSION, flags, id, command, 0, (uint16_t)length, payload};
    size_t size = ls_frame_encode(&f, frame, sizeof frame);
    ls_engine_receive(h->engine, frame, size, h->now_ms);
    if (out) memcpy(out, frame, size);
    return size;
}

static void collect_one(void *context, const ls_frame *f)
{
    harness *h = context;
    if (h->frame_count == HARNESS_MAX_FRAMES) return;
    captured_frame *c = &h->frames[h->frame_count++];
    c->frame = *f;
    memcpy(c->payload, f->payload, f->length);
    c->frame.payload = c->payload;
    c->raw_size = ls_frame_encode(&c->frame, c->raw, sizeof c->raw);
}

void harness_collect(harness *h)
{
    ls_decoder_feed(&h->decoder, h->sent, h->sent_size, h->now_ms, collect_one, h);
    h->sent_size = 0;
}

void harness_clear(harness *h)
{
    harness_collect(h);
    h->frame_count = 0;
}

const captured_frame *harness_call(harness *h, uint16_t id, uint8_t command, const void *payload,
                                   size_t length)
{
    harness_clear(h);
    harness_send(h, 0, id, command, payload, length, NULL);
    for (int waited = 0; waited <= 3000; waited += 5) {
        harness_collect(h);
        for (size_t i = 0; i < h->frame_count; i++) {
            const captured_frame *c = &h->frames[i];
            if (!(c->frame.flags & LS_FLAG_EVENT) && c->frame.request_id == id &&
                c->frame.command == command)
                return c;
        }
        harness_wait(h, 5);
    }
    return NULL;
}

const char *hex(const uint8_t *bytes, size_t count)
{
    static char text[2 * LS_MAX_FRAME + 1];
    static const char digits[] = "0123456789abcdef";
    if (count > LS_MAX_FRAME) count = LS_MAX_FRAME;
    for (size_t i = 0; i < count; i++) {
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 15];
    }
    text[2 * count] = '\0';
    return text;
}
