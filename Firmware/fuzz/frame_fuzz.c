/* libFuzzer target: the frame decoder must never crash, overrun or hang on any input, and
 * every frame it delivers must be well-formed and re-encode to the same bytes. */
#include "../core/frame.h"
#include "../core/crc32.h"
#include <stdlib.h>
#include <string.h>

static void check(void *context, const ls_frame *f)
{
    (void)context;
    if (f->length > LS_MAX_PAYLOAD || (f->flags & LS_FLAG_RESERVED)) abort();
    uint8_t out[LS_MAX_FRAME];
    size_t size = ls_frame_encode(f, out, sizeof out);
    if (size != LS_MIN_FRAME + f->length) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ls_decoder decoder;
    ls_decoder_init(&decoder);
    /* The first byte picks a split, so frames arrive in pieces and with pauses that trip the
     * 100 ms timeout. */
    if (size == 0) return 0;
    size_t step = 1u + data[0] % 64u;
    uint64_t now = 0;
    for (size_t i = 1; i < size; i += step) {
        size_t n = size - i < step ? size - i : step;
        ls_decoder_feed(&decoder, data + i, n, now, check, NULL);
        now += (data[i] & 0x80u) ? 150u : 1u;
    }
    ls_decoder_poll(&decoder, now + 1000u, check, NULL);
    if (decoder.length != 0) abort(); /* everything is consumed once the line goes quiet */
    return 0;
}
