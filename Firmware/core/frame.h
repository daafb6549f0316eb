/* Frame codec (protocol section 1): encoding, and a streaming decoder that resynchronises. */
#ifndef LS_FRAME_H
#define LS_FRAME_H
#include <stddef.h>
#include <stdint.h>
#include "protocol.h"

typedef struct {
    uint8_t version;
    uint8_t flags;
    uint16_t request_id;
    uint8_t command;
    uint8_t status;
    uint16_t length;
    const uint8_t *payload; /* `length` bytes; for decoded frames valid only inside the sink */
} ls_frame;

/* Writes the whole frame (header, payload, CRC) to out; returns its size, or 0 when the
 * payload exceeds LS_MAX_PAYLOAD or out is too small. */
size_t ls_frame_encode(const ls_frame *frame, uint8_t *out, size_t capacity);

typedef void (*ls_frame_sink)(void *context, const ls_frame *frame);

typedef struct {
    uint8_t buffer[LS_MAX_FRAME];
    size_t length;
    uint64_t last_byte_ms;
    uint32_t frames;       /* frames delivered */
    uint32_t rejected;     /* candidate frames rejected: bad header, bad CRC, or stalled */
} ls_decoder;

void ls_decoder_init(ls_decoder *decoder);

/* Feeds received bytes; every complete, CRC-valid frame goes to sink (possibly several per
 * call). now_ms is a monotonic clock used for the inter-byte timeout. */
void ls_decoder_feed(ls_decoder *decoder, const uint8_t *bytes, size_t count, uint64_t now_ms,
                     ls_frame_sink sink, void *context);

/* Abandons a partial frame whose bytes stopped arriving more than LS_FRAME_TIMEOUT_MS ago
 * (dropping only its first byte, then rescanning what is left). Call now and then. */
void ls_decoder_poll(ls_decoder *decoder, uint64_t now_ms, ls_frame_sink sink, void *context);

#endif
