/* SplitMix64: a tiny, well-distributed PRNG, so a --seed reproduces a run exactly. */
#ifndef LS_RNG_H
#define LS_RNG_H
#include <stdint.h>

typedef struct {
    uint64_t state;
} ls_rng;

static inline uint64_t ls_rng_next(ls_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in lo..hi inclusive (modulo bias is irrelevant at these ranges). */
static inline uint32_t ls_rng_range(ls_rng *r, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(ls_rng_next(r) % ((uint64_t)hi - lo + 1u));
}

/* True with probability ppm / 1e6. */
static inline int ls_rng_chance(ls_rng *r, uint32_t ppm)
{
    return ppm > 0 && (ls_rng_next(r) % 1000000u) < ppm;
}

#endif
