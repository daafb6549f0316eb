/* Little-endian field access and a bounded writer for building payloads. */
#ifndef LS_BYTES_H
#define LS_BYTES_H
#include <stddef.h>
#include <stdint.h>

static inline uint16_t ls_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t ls_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void ls_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void ls_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Appends until full; `overflow` records that something did not fit, so callers check once. */
typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
    int overflow;
} ls_writer;

static inline ls_writer ls_writer_make(uint8_t *data, size_t capacity)
{
    ls_writer w = {data, 0, capacity, 0};
    return w;
}
static inline uint8_t *ls_writer_reserve(ls_writer *w, size_t n)
{
    if (w->overflow || w->capacity - w->length < n) {
        w->overflow = 1;
        return NULL;
    }
    uint8_t *p = w->data + w->length;
    w->length += n;
    return p;
}
static inline void ls_w_u8(ls_writer *w, uint8_t v)
{
    uint8_t *p = ls_writer_reserve(w, 1);
    if (p) p[0] = v;
}
static inline void ls_w_u16(ls_writer *w, uint16_t v)
{
    uint8_t *p = ls_writer_reserve(w, 2);
    if (p) ls_put_u16(p, v);
}
static inline void ls_w_u32(ls_writer *w, uint32_t v)
{
    uint8_t *p = ls_writer_reserve(w, 4);
    if (p) ls_put_u32(p, v);
}
static inline void ls_w_i16(ls_writer *w, int16_t v) { ls_w_u16(w, (uint16_t)v); }
static inline void ls_w_i32(ls_writer *w, int32_t v) { ls_w_u32(w, (uint32_t)v); }
/* Protocol string: one length byte (0..64) then the bytes; longer strings are cut at 64. */
static inline void ls_w_str(ls_writer *w, const char *s)
{
    size_t n = 0;
    while (s[n] != '\0' && n < 64) n++;
    ls_w_u8(w, (uint8_t)n);
    uint8_t *p = ls_writer_reserve(w, n);
    for (size_t i = 0; p && i < n; i++) p[i] = (uint8_t)s[i];
}

#endif
