/* Protocol engine: turns received bytes into requests, runs them against the device model,
 * and writes responses and unsolicited events through an output callback. It owns the
 * retry cache (section 2), the module-test timer, reboots and the event monitor.
 *
 * Engines come from a static pool (LS_ENGINE_POOL, default 4): no heap at all. */
#ifndef LS_ENGINE_H
#define LS_ENGINE_H
#include <stddef.h>
#include <stdint.h>
#include "device.h"
#include "faults.h"

#ifndef LS_ENGINE_POOL
#define LS_ENGINE_POOL 4
#endif

/* The reference device's timing (emulated milliseconds). */
#define LS_MONITOR_PERIOD_MS 1000u
#define LS_REBOOT_SILENCE_MS 500u
#define LS_MODULE_TEST_BASE_MS 40u
#define LS_MODULE_TEST_PER_MODULE_MS 5u
#define LS_LINK_ERROR_EVENT_PERIOD_MS 10000u

typedef struct ls_engine ls_engine;

/* Receives every byte the device sends. */
typedef void (*ls_output)(void *context, const uint8_t *bytes, size_t count);

typedef struct {
    uint32_t requests;         /* frames executed */
    uint32_t retries_answered; /* retries answered from the cache */
    uint32_t rejected;         /* candidate frames the decoder rejected */
    uint32_t ignored;          /* valid frames that were not requests, or arrived while rebooting */
} ls_engine_stats;

/* Creates and boots a device at time now_ms. Returns NULL with a message in error when the
 * configuration or a fault is invalid, or the pool is exhausted. Host-layer faults
 * (flaky-link, unplug-after, slow-response) are accepted and ignored here. */
ls_engine *ls_engine_create(const ls_device_config *config, const ls_fault *faults,
                            size_t fault_count, ls_output output, void *context, uint64_t now_ms,
                            char *error, size_t error_size);
void ls_engine_destroy(ls_engine *engine);

/* Bytes from the host. */
void ls_engine_receive(ls_engine *engine, const uint8_t *bytes, size_t count, uint64_t now_ms);

/* Advances time: frame timeouts, pending module tests, reboots, the monitor. Call at least
 * every 10 ms. */
void ls_engine_tick(ls_engine *engine, uint64_t now_ms);

/* Milliseconds until the engine next needs a tick (for poll timeouts). */
uint32_t ls_engine_idle_ms(const ls_engine *engine, uint64_t now_ms);

/* The link was re-established (a new client, a UART break): forget any partial frame. */
void ls_engine_link_reset(ls_engine *engine);

ls_device *ls_engine_device(ls_engine *engine);
ls_engine_stats ls_engine_statistics(const ls_engine *engine);

#endif
