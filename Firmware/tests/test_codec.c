/* CRC and frame codec: encoding, decoding, resynchronisation, rejection of bad frames. */
#include "../core/bytes.h"
#include "../core/crc32.h"
#include "../core/frame.h"
#include "check.h"
#include <string.h>

typedef struct {
    ls_frame frames[16];
    uint8_t payloads[16][LS_MAX_PAYLOAD];
    int count;
} sink_log;

static void record(void *context, const ls_frame *f)
{
    sink_log *log = context;
    if (log->count == 16) return;
    log->frames[log->count] = *f;
    memcpy(log->payloads[log->count], f->payload, f->length);
    log->frames[log->count].payload = log->payloads[log->count];
    log->count++;
}

static size_t make(uint8_t *out, uint16_t id, uint8_t command, const uint8_t *payload, uint16_t n)
{
    ls_frame f = {1, 0, id, command, 0, n, payload};
    return ls_frame_encode(&f, out, LS_MAX_FRAME);
}

TEST(crc32_check_value)
{
    CHECK_EQ(ls_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
    CHECK_EQ(ls_crc32(0, NULL, 0), 0);
    /* continuation equals one pass */
    uint32_t part = ls_crc32(0, (const uint8_t *)"1234", 4);
    CHECK_EQ(ls_crc32(part, (const uint8_t *)"56789", 5), 0xCBF43926u);
}

TEST(encode_layout)
{
    /* HELLO 1..1, request id 1: every header byte where section 1 puts it */
    uint8_t out[LS_MAX_FRAME];
    const uint8_t payload[] = {1, 1};
    size_t n = make(out, 0x0201, LS_CMD_HELLO, payload, 2);
    CHECK_EQ(n, 16);
    const uint8_t expected[] = {0xA5, 0x5A, 0x01, 0x00, 0x01, 0x02, 0x01, 0x00, 0x02, 0x00, 0x01, 0x01};
    CHECK(memcmp(out, expected, sizeof expected) == 0);
    CHECK_EQ(ls_get_u32(out + 12), ls_crc32(0, out + 2, 10));
    /* too large a payload or too small a buffer is refused */
    uint8_t big[LS_MAX_PAYLOAD + 1] = {0};
    ls_frame f = {1, 0, 1, 1, 0, LS_MAX_PAYLOAD + 1, big};
    CHECK_EQ(ls_frame_encode(&f, out, sizeof out), 0);
    f.length = 4;
    CHECK_EQ(ls_frame_encode(&f, out, 17), 0);
}

TEST(decode_round_trip_and_max_payload)
{
    static uint8_t payload[LS_MAX_PAYLOAD], wire[LS_MAX_FRAME];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7);
    size_t n = make(wire, 0xFFFF, 0x08, payload, LS_MAX_PAYLOAD);
    CHECK_EQ(n, LS_MAX_FRAME);
    static ls_decoder d;
    static sink_log log;
    memset(&log, 0, sizeof log);
    ls_decoder_init(&d);
    /* byte by byte: the decoder must not need a frame in one piece */
    for (size_t i = 0; i < n; i++) ls_decoder_feed(&d, wire + i, 1, 0, record, &log);
    CHECK_EQ(log.count, 1);
    CHECK_EQ(log.frames[0].request_id, 0xFFFF);
    CHECK_EQ(log.frames[0].length, LS_MAX_PAYLOAD);
    CHECK(memcmp(log.payloads[0], payload, LS_MAX_PAYLOAD) == 0);
    CHECK_EQ(d.length, 0);
    CHECK_EQ(d.rejected, 0);
}

TEST(resync_after_garbage)
{
    uint8_t wire[64], stream[256];
    const uint8_t payload[] = {1, 1};
    size_t n = make(wire, 7, LS_CMD_HELLO, payload, 2);
    /* garbage with false starts: lone A5, A5 5A with a bad header, then the frame, twice */
    const uint8_t garbage[] = {0x00, 0xA5, 0x11, 0xA5, 0xA5, 0x5A, 0x01, 0xFF, 0x00, 0x00, 0x01,
                               0x00, 0x00, 0x00, 0xA5};
    size_t len = 0;
    memcpy(stream + len, garbage, sizeof garbage);
    len += sizeof garbage;
    memcpy(stream + len, wire, n);
    len += n;
    memcpy(stream + len, garbage, sizeof garbage);
    len += sizeof garbage;
    memcpy(stream + len, wire, n);
    len += n;
    static ls_decoder d;
    sink_log log = {0};
    ls_decoder_init(&d);
    ls_decoder_feed(&d, stream, len, 0, record, &log);
    CHECK_EQ(log.count, 2);
    CHECK_EQ(log.frames[0].request_id, 7);
    CHECK_EQ(log.frames[1].command, LS_CMD_HELLO);
    CHECK(d.rejected >= 2); /* the reserved-flags header, each time */
}

TEST(frame_inside_rejected_frame_is_found)
{
    /* A corrupt header claims 1000 payload bytes; a real frame follows inside those bytes.
     * The decoder waits for the claimed frame, then the line goes quiet: after 100 ms it
     * drops the first byte, rescans, and finds the real frame. */
    uint8_t stream[64], wire[32];
    const uint8_t fake_header[] = {0xA5, 0x5A, 0x01, 0x00, 0x09, 0x00, 0x02, 0x00, 0xE8, 0x03};
    const uint8_t payload[] = {1, 1};
    size_t n = make(wire, 9, LS_CMD_HELLO, payload, 2);
    memcpy(stream, fake_header, sizeof fake_header);
    memcpy(stream + sizeof fake_header, wire, n);
    static ls_decoder d;
    sink_log log = {0};
    ls_decoder_init(&d);
    ls_decoder_feed(&d, stream, sizeof fake_header + n, 1000, record, &log);
    CHECK_EQ(log.count, 0);
    ls_decoder_poll(&d, 1050, record, &log); /* not yet stalled */
    CHECK_EQ(log.count, 0);
    ls_decoder_poll(&d, 1101, record, &log);
    CHECK_EQ(log.count, 1);
    CHECK_EQ(log.frames[0].request_id, 9);
    CHECK_EQ(d.length, 0);
}

TEST(wrong_crc_rejected)
{
    uint8_t wire[32];
    const uint8_t payload[] = {1, 1};
    size_t n = make(wire, 3, LS_CMD_HELLO, payload, 2);
    for (size_t flip = 2; flip < n; flip++) { /* every byte after the start marker */
        uint8_t bad[32];
        memcpy(bad, wire, n);
        bad[flip] ^= 0x10;
        static ls_decoder d;
        sink_log log = {0};
        ls_decoder_init(&d);
        ls_decoder_feed(&d, bad, n, 0, record, &log);
        ls_decoder_poll(&d, 500, record, &log);
        CHECK_EQ(log.count, 0);
        CHECK(d.rejected >= 1);
        CHECK_EQ(d.length, 0);
        /* and the next good frame still gets through */
        ls_decoder_feed(&d, wire, n, 600, record, &log);
        CHECK_EQ(log.count, 1);
    }
}

TEST(truncated_frame_abandoned_after_timeout)
{
    uint8_t wire[32];
    const uint8_t payload[] = {1, 1};
    size_t n = make(wire, 4, LS_CMD_HELLO, payload, 2);
    static ls_decoder d;
    sink_log log = {0};
    ls_decoder_init(&d);
    ls_decoder_feed(&d, wire, n - 3, 0, record, &log); /* CRC cut short */
    ls_decoder_feed(&d, wire, 0, 100, record, &log);   /* exactly 100 ms: still waiting */
    CHECK_EQ(d.length, n - 3);
    ls_decoder_poll(&d, 101, record, &log);
    CHECK_EQ(d.length, 0);
    CHECK_EQ(log.count, 0);
    CHECK(d.rejected >= 1);
    /* a slow but steady sender (gaps under 100 ms) is not cut off */
    for (size_t i = 0; i < n; i++) ls_decoder_feed(&d, wire + i, 1, 200 + 90 * i, record, &log);
    CHECK_EQ(log.count, 1);
}

TEST(oversized_length_rejected)
{
    /* length 1025: the header is rejected at once, without waiting for 1039 bytes */
    uint8_t header[] = {0xA5, 0x5A, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x04};
    static ls_decoder d;
    sink_log log = {0};
    ls_decoder_init(&d);
    ls_decoder_feed(&d, header, sizeof header, 0, record, &log);
    CHECK_EQ(d.length, 0);
    CHECK_EQ(d.rejected, 1);
    CHECK_EQ(log.count, 0);
}

TEST(random_noise_never_crashes)
{
    /* deterministic noise with frames sprinkled in: every good frame is found */
    static ls_decoder d;
    sink_log log = {0};
    ls_decoder_init(&d);
    uint32_t x = 12345;
    uint8_t wire[32];
    const uint8_t payload[] = {1, 1};
    size_t n = make(wire, 5, LS_CMD_HELLO, payload, 2);
    int sent = 0;
    for (int round = 0; round < 2000; round++) {
        uint8_t noise[64];
        for (size_t i = 0; i < sizeof noise; i++) {
            x = x * 1103515245u + 12345u;
            noise[i] = (uint8_t)(x >> 16);
            if ((x >> 8) % 13 == 0) noise[i] = 0xA5;
        }
        ls_decoder_feed(&d, noise, sizeof noise, (uint64_t)round * 300, record, &log);
        ls_decoder_poll(&d, (uint64_t)round * 300 + 150, record, &log);
        if (round % 100 == 0) {
            log.count = 0;
            ls_decoder_feed(&d, wire, n, (uint64_t)round * 300 + 160, record, &log);
            CHECK_EQ(log.count, 1);
            sent++;
        }
    }
    CHECK(sent == 20);
}
