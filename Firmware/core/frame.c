#include "frame.h"
#include "bytes.h"
#include "crc32.h"
#include <string.h>

size_t ls_frame_encode(const ls_frame *frame, uint8_t *out, size_t capacity)
{
    size_t size = LS_MIN_FRAME + frame->length;
    if (frame->length > LS_MAX_PAYLOAD || capacity < size) return 0;
    out[0] = LS_SOF1;
    out[1] = LS_SOF2;
    out[2] = frame->version;
    out[3] = frame->flags;
    ls_put_u16(out + 4, frame->request_id);
    out[6] = frame->command;
    out[7] = frame->status;
    ls_put_u16(out + 8, frame->length);
    if (frame->length) memmove(out + LS_HEADER_SIZE, frame->payload, frame->length);
    ls_put_u32(out + LS_HEADER_SIZE + frame->length,
               ls_crc32(0, out + 2, LS_HEADER_SIZE - 2 + frame->length));
    return size;
}

void ls_decoder_init(ls_decoder *decoder)
{
    memset(decoder, 0, sizeof *decoder);
}

static void discard(ls_decoder *d, size_t count)
{
    d->length -= count;
    memmove(d->buffer, d->buffer + count, d->length);
}

/* Rejecting a candidate drops only its first byte, so a real frame inside it is still found. */
static void reject(ls_decoder *d)
{
    d->rejected++;
    discard(d, 1);
}

static void scan(ls_decoder *d, ls_frame_sink sink, void *context)
{
    while (d->length > 0) {
        if (d->buffer[0] != LS_SOF1) {
            const uint8_t *next = memchr(d->buffer + 1, LS_SOF1, d->length - 1);
            discard(d, next ? (size_t)(next - d->buffer) : d->length);
            continue;
        }
        if (d->length < 2) return;
        if (d->buffer[1] != LS_SOF2) {
            discard(d, 1); /* a lone A5 is noise, not a rejected frame */
            continue;
        }
        if (d->length < LS_HEADER_SIZE) return;
        uint16_t payload_length = ls_get_u16(d->buffer + 8);
        if ((d->buffer[3] & LS_FLAG_RESERVED) || payload_length > LS_MAX_PAYLOAD) {
            reject(d);
            continue;
        }
        size_t size = LS_MIN_FRAME + payload_length;
        if (d->length < size) return;
        uint32_t sent = ls_get_u32(d->buffer + LS_HEADER_SIZE + payload_length);
        if (ls_crc32(0, d->buffer + 2, LS_HEADER_SIZE - 2 + payload_length) != sent) {
            reject(d);
            continue;
        }
        ls_frame frame = {d->buffer[2], d->buffer[3], ls_get_u16(d->buffer + 4), d->buffer[6],
                          d->buffer[7], payload_length, d->buffer + LS_HEADER_SIZE};
        d->frames++;
        /* Copy out before the sink runs: a sink may feed this decoder again (loopback). */
        uint8_t copy[LS_MAX_FRAME];
        memcpy(copy, d->buffer, size);
        frame.payload = copy + LS_HEADER_SIZE;
        discard(d, size);
        sink(context, &frame);
    }
}

void ls_decoder_feed(ls_decoder *d, const uint8_t *bytes, size_t count, uint64_t now_ms,
                     ls_frame_sink sink, void *context)
{
    ls_decoder_poll(d, now_ms, sink, context);
    for (size_t i = 0; i < count; i++) {
        if (d->length == 0 && bytes[i] != LS_SOF1) continue; /* idle line noise: cheap path */
        d->buffer[d->length++] = bytes[i];
        d->last_byte_ms = now_ms;
        if (d->length == sizeof d->buffer || d->length >= LS_HEADER_SIZE || d->length <= 2)
            scan(d, sink, context);
    }
}

void ls_decoder_poll(ls_decoder *d, uint64_t now_ms, ls_frame_sink sink, void *context)
{
    while (d->length > 0 && now_ms - d->last_byte_ms > LS_FRAME_TIMEOUT_MS) {
        reject(d);
        scan(d, sink, context);
    }
}
