#include "engine.h"
#include "bytes.h"
#include "device_private.h"
#include "frame.h"
#include <string.h>

#define DEFERRED 0x100 /* handler status: the response is sent later */

typedef struct {
    uint16_t request_id;
    uint8_t command;
    uint16_t size;
    uint8_t bytes[LS_MAX_FRAME];
} cached_response;

struct ls_engine {
    int in_use;
    ls_device device;
    ls_decoder decoder;
    ls_output output;
    void *context;
    uint64_t now_ms;
    /* retry cache: the last LS_RETRY_CACHE_ENTRIES responses, kept across reboots so a
     * retried REBOOT does not reboot twice */
    cached_response cache[LS_RETRY_CACHE_ENTRIES];
    uint32_t cache_used, cache_next;
    struct {
        int active;
        uint16_t request_id;
        uint16_t cabinet;
        uint64_t due_ms;
    } module_test;
    int rebooting;
    uint64_t reboot_done_ms;
    uint64_t next_monitor_ms;
    uint32_t link_errors_logged;
    int link_error_event_seen;
    uint64_t last_link_error_event_ms;
    uint32_t events_sent_before; /* EVENT frames were sent for sequences below this */
    uint8_t payload[LS_MAX_PAYLOAD];
    uint8_t frame[LS_MAX_FRAME];
    ls_engine_stats stats;
};

static ls_engine pool[LS_ENGINE_POOL];

/* ---- sending ---- */

static size_t send_frame(ls_engine *e, uint8_t flags, uint16_t id, uint8_t command,
                         uint8_t status, const uint8_t *payload, size_t length)
{
    ls_frame f = {LS_PROTOCOL_VERSION, flags, id, command, status, (uint16_t)length, payload};
    size_t size = ls_frame_encode(&f, e->frame, sizeof e->frame);
    if (size) e->output(e->context, e->frame, size);
    return size;
}

static void respond(ls_engine *e, uint16_t id, uint8_t command, int status, const uint8_t *payload,
                    size_t length)
{
    size_t size = send_frame(e, LS_FLAG_RESPONSE, id, command, (uint8_t)status, payload, length);
    cached_response *c = &e->cache[e->cache_next];
    c->request_id = id;
    c->command = command;
    c->size = (uint16_t)size;
    memcpy(c->bytes, e->frame, size);
    e->cache_next = (e->cache_next + 1u) % LS_RETRY_CACHE_ENTRIES;
    if (e->cache_used < LS_RETRY_CACHE_ENTRIES) e->cache_used++;
}

static const cached_response *cached(const ls_engine *e, uint16_t id, uint8_t command)
{
    /* newest first, so a re-used id finds its latest answer */
    for (uint32_t i = 1; i <= e->cache_used; i++) {
        const cached_response *c =
            &e->cache[(e->cache_next + LS_RETRY_CACHE_ENTRIES - i) % LS_RETRY_CACHE_ENTRIES];
        if (c->request_id == id && c->command == command) return c;
    }
    return NULL;
}

static void write_event(ls_writer *w, const ls_event *ev)
{
    ls_w_u32(w, ev->sequence);
    ls_w_u32(w, ev->uptime_seconds);
    ls_w_u8(w, ev->type);
    ls_w_u8(w, 0);
    ls_w_u16(w, ev->cabinet);
    ls_w_i16(w, ev->value);
}

/* Sends an EVENT frame for every event logged since the last call. */
static void send_new_events(ls_engine *e)
{
    ls_device *d = &e->device;
    uint32_t count = ls_device_event_count(d);
    for (uint32_t i = 0; i < count; i++) {
        ls_event ev = ls_device_event_at(d, i);
        if (ev.sequence < e->events_sent_before) continue;
        uint8_t record[LS_EVENT_RECORD_SIZE];
        ls_writer w = ls_writer_make(record, sizeof record);
        write_event(&w, &ev);
        send_frame(e, LS_FLAG_RESPONSE | LS_FLAG_EVENT, 0, LS_CMD_EVENT, LS_ST_OK, record,
                   w.length);
    }
    e->events_sent_before = ls_device_next_sequence(d);
}

/* ---- command handlers: parse the request, write the OK payload, return a status ---- */

typedef int (*handler)(ls_engine *e, const uint8_t *request, ls_writer *w);

static int cmd_hello(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    if (rq[0] > rq[1]) return LS_ST_BAD_ARGUMENT;
    if (rq[0] > LS_MAX_VERSION || rq[1] < LS_MIN_VERSION) {
        ls_w_u8(w, LS_MIN_VERSION);
        ls_w_u8(w, LS_MAX_VERSION);
        return LS_ST_UNSUPPORTED_VERSION;
    }
    /* A HELLO opens a host session, whose request ids start again at 1: forget the
       previous session's answers so none of them can answer this session's RETRYs. */
    e->cache_used = 0;
    e->cache_next = 0;
    ls_w_u8(w, LS_PROTOCOL_VERSION);
    ls_w_u16(w, LS_MAX_PAYLOAD);
    ls_w_u32(w, LS_CAP_EVENTS | LS_CAP_LED_STATUS | LS_CAP_TELEMETRY);
    return LS_ST_OK;
}

static int cmd_identify(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    (void)rq;
    const ls_device *d = &e->device;
    const ls_geometry *g = ls_device_geometry(d);
    ls_w_str(w, ls_device_model(d));
    ls_w_str(w, ls_device_serial(d));
    ls_w_str(w, ls_device_firmware(d));
    ls_w_str(w, ls_device_hardware_revision(d));
    ls_w_u16(w, g->cabinet_columns);
    ls_w_u16(w, g->cabinet_rows);
    ls_w_u8(w, g->modules_x);
    ls_w_u8(w, g->modules_y);
    ls_w_u16(w, g->module_width);
    ls_w_u16(w, g->module_height);
    return LS_ST_OK;
}

/* NOT_FOUND for a cabinet that does not exist, HARDWARE_FAULT for one that does not answer. */
static int reachable_cabinet(const ls_engine *e, uint16_t cabinet)
{
    if (!ls_device_cabinet_exists(&e->device, cabinet)) return LS_ST_NOT_FOUND;
    if (!ls_device_cabinet_online(&e->device, cabinet)) return LS_ST_HARDWARE_FAULT;
    return LS_ST_OK;
}

static int cmd_cabinet_info(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    uint16_t cabinet = ls_get_u16(rq);
    int status = reachable_cabinet(e, cabinet);
    if (status != LS_ST_OK) return status;
    ls_w_u16(w, cabinet);
    ls_w_str(w, ls_device_cabinet_serial(&e->device, cabinet));
    ls_w_str(w, ls_device_cabinet_firmware(&e->device, cabinet));
    ls_w_str(w, ls_device_cabinet_hardware_revision(&e->device, cabinet));
    ls_w_u32(w, ls_device_cabinet_calibration_checksum(&e->device, cabinet));
    return LS_ST_OK;
}

static int cmd_get_param(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    const ls_param_info *p = ls_param_find(rq[0]);
    if (!p) return LS_ST_UNKNOWN_PARAMETER;
    ls_w_u8(w, p->id);
    ls_w_i32(w, ls_device_param(&e->device, p->id));
    ls_w_i32(w, p->min);
    ls_w_i32(w, p->max);
    return LS_ST_OK;
}

static int cmd_set_param(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    uint8_t id = rq[0];
    int status = ls_device_set_param(&e->device, id, (int32_t)ls_get_u32(rq + 1));
    if (status == LS_ST_OUT_OF_RANGE) {
        const ls_param_info *p = ls_param_find(id);
        ls_w_u8(w, id);
        ls_w_i32(w, p->min);
        ls_w_i32(w, p->max);
    } else if (status == LS_ST_OK) {
        ls_w_u8(w, id);
        ls_w_i32(w, ls_device_param(&e->device, id));
    }
    return status;
}

static int cmd_show_pattern(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    uint16_t effective = 0;
    int status = ls_device_show_pattern(&e->device, rq[0], ls_get_u16(rq + 1), &effective);
    if (status == LS_ST_OK) {
        ls_w_u8(w, rq[0]);
        ls_w_u16(w, effective);
    }
    return status;
}

static int cmd_module_test(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    (void)w;
    uint16_t cabinet = ls_get_u16(rq);
    int status = reachable_cabinet(e, cabinet);
    if (status != LS_ST_OK) return status;
    const ls_geometry *g = ls_device_geometry(&e->device);
    uint32_t modules = (uint32_t)g->modules_x * g->modules_y;
    e->module_test.active = 1;
    e->module_test.cabinet = cabinet;
    e->module_test.due_ms =
        e->now_ms + LS_MODULE_TEST_BASE_MS + LS_MODULE_TEST_PER_MODULE_MS * modules;
    return DEFERRED;
}

static void write_module_test(ls_engine *e, uint16_t cabinet, ls_writer *w)
{
    const ls_geometry *g = ls_device_geometry(&e->device);
    uint32_t modules = (uint32_t)g->modules_x * g->modules_y;
    ls_w_u16(w, cabinet);
    ls_w_u8(w, (uint8_t)modules);
    for (uint32_t m = 0; m < modules; m++) {
        ls_module_result r = ls_device_module_test(&e->device, cabinet, m);
        ls_w_u8(w, r.module);
        ls_w_u8(w, r.result);
        ls_w_u16(w, r.supply_millivolts);
        ls_w_u8(w, r.driver_ics_expected);
        ls_w_u8(w, r.driver_ics_found);
    }
}

static int cmd_read_led_status(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    uint16_t cabinet = ls_get_u16(rq);
    uint32_t offset = ls_get_u32(rq + 2);
    uint32_t max_bytes = ls_get_u16(rq + 6);
    if (!ls_device_cabinet_exists(&e->device, cabinet)) return LS_ST_NOT_FOUND;
    const ls_geometry *g = ls_device_geometry(&e->device);
    uint32_t width = ls_geometry_cabinet_width(g);
    uint32_t total = width * ls_geometry_cabinet_height(g);
    if (max_bytes == 0 || max_bytes > LS_MAX_PAYLOAD || offset > total)
        return LS_ST_BAD_ARGUMENT;
    if (!ls_device_cabinet_online(&e->device, cabinet)) return LS_ST_HARDWARE_FAULT;
    uint32_t count = total - offset;
    if (count > max_bytes) count = max_bytes;
    if (count > LS_LED_STATUS_MAX_CHUNK) count = LS_LED_STATUS_MAX_CHUNK;
    ls_w_u16(w, cabinet);
    ls_w_u32(w, total);
    ls_w_u32(w, offset);
    uint8_t *data = ls_writer_reserve(w, count);
    for (uint32_t i = 0; data && i < count; i++) {
        uint32_t led = offset + i;
        data[i] = ls_device_led_status(&e->device, cabinet, led % width, led / width);
    }
    return LS_ST_OK;
}

static int cmd_read_telemetry(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    uint16_t cabinet = ls_get_u16(rq);
    int status = reachable_cabinet(e, cabinet);
    if (status != LS_ST_OK) return status;
    ls_telemetry t = ls_device_telemetry(&e->device, cabinet);
    ls_w_u16(w, cabinet);
    ls_w_i16(w, t.temperature_decicelsius);
    ls_w_u16(w, t.supply_millivolts);
    ls_w_u16(w, t.fan_rpm);
    ls_w_u32(w, t.runtime_hours);
    ls_w_u32(w, t.power_cycles);
    return LS_ST_OK;
}

static int cmd_read_events(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    uint32_t first = ls_get_u32(rq);
    uint8_t max_count = rq[4];
    if (max_count == 0 || max_count > LS_EVENT_MAX_COUNT) return LS_ST_BAD_ARGUMENT;
    uint32_t stored = ls_device_event_count(&e->device);
    ls_w_u16(w, (uint16_t)stored);
    uint8_t *count = ls_writer_reserve(w, 1);
    *count = 0;
    for (uint32_t i = 0; i < stored && *count < max_count; i++) {
        ls_event ev = ls_device_event_at(&e->device, i);
        if (ev.sequence < first) continue;
        write_event(w, &ev);
        (*count)++;
    }
    return LS_ST_OK;
}

static int cmd_clear_events(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    (void)rq;
    ls_w_u16(w, (uint16_t)ls_device_clear_events(&e->device));
    return LS_ST_OK;
}

static int cmd_reboot(ls_engine *e, const uint8_t *rq, ls_writer *w)
{
    (void)rq;
    (void)w;
    e->rebooting = 1; /* after the answer is out */
    e->reboot_done_ms = e->now_ms + LS_REBOOT_SILENCE_MS;
    return LS_ST_OK;
}

/* Every request has a fixed payload length. */
static const struct {
    uint8_t command;
    uint8_t request_length;
    handler run;
} commands[] = {
    {LS_CMD_HELLO, 2, cmd_hello},
    {LS_CMD_IDENTIFY, 0, cmd_identify},
    {LS_CMD_CABINET_INFO, 2, cmd_cabinet_info},
    {LS_CMD_GET_PARAM, 1, cmd_get_param},
    {LS_CMD_SET_PARAM, 5, cmd_set_param},
    {LS_CMD_SHOW_PATTERN, 3, cmd_show_pattern},
    {LS_CMD_MODULE_TEST, 2, cmd_module_test},
    {LS_CMD_READ_LED_STATUS, 8, cmd_read_led_status},
    {LS_CMD_READ_TELEMETRY, 2, cmd_read_telemetry},
    {LS_CMD_READ_EVENTS, 5, cmd_read_events},
    {LS_CMD_CLEAR_EVENTS, 0, cmd_clear_events},
    {LS_CMD_REBOOT, 0, cmd_reboot},
};

/* ---- request dispatch ---- */

static void on_frame(void *context, const ls_frame *f)
{
    ls_engine *e = context;
    if (e->rebooting || (f->flags & (LS_FLAG_RESPONSE | LS_FLAG_EVENT))) { /* restarting, or an echo */
        e->stats.ignored++;
        return;
    }
    /* Section 3's order: the version first. A frame of another version is no re-send of a
       remembered request, whatever its flags, id and command; its answer is not remembered
       either, so it cannot shadow the answer to a version 1 request with the same id. */
    if (f->version != LS_PROTOCOL_VERSION) {
        const uint8_t versions[2] = {LS_MIN_VERSION, LS_MAX_VERSION};
        e->stats.requests++;
        send_frame(e, LS_FLAG_RESPONSE, f->request_id, f->command, LS_ST_UNSUPPORTED_VERSION,
                   versions, sizeof versions);
        return;
    }
    /* A remembered RETRY comes next, before BUSY: it already ran, and BUSY would make the
       host send it anew. */
    if (f->flags & LS_FLAG_RETRY) {
        const cached_response *c = cached(e, f->request_id, f->command);
        if (c) {
            e->stats.retries_answered++;
            e->output(e->context, c->bytes, c->size);
            return;
        }
        if (e->module_test.active && e->module_test.request_id == f->request_id &&
            f->command == LS_CMD_MODULE_TEST)
            return; /* still testing: the one answer is on its way */
    }
    e->stats.requests++;
    ls_writer w = ls_writer_make(e->payload, sizeof e->payload);
    int status;
    if (e->module_test.active) {
        status = LS_ST_BUSY;
    } else {
        status = LS_ST_UNKNOWN_COMMAND;
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            if (commands[i].command != f->command) continue;
            status = f->length != commands[i].request_length
                         ? LS_ST_BAD_LENGTH
                         : commands[i].run(e, f->payload, &w);
            break;
        }
    }
    if (status == DEFERRED) {
        e->module_test.request_id = f->request_id;
        return;
    }
    if (status != LS_ST_OK && status != LS_ST_OUT_OF_RANGE && status != LS_ST_UNSUPPORTED_VERSION)
        w.length = 0; /* other errors carry no payload */
    respond(e, f->request_id, f->command, status, e->payload, w.length);
}

/* ---- life cycle and time ---- */

static void boot(ls_engine *e)
{
    e->rebooting = 0;
    e->module_test.active = 0;
    e->decoder.length = 0;
    ls_device_boot(&e->device);
    e->next_monitor_ms = e->now_ms + LS_MONITOR_PERIOD_MS;
    send_new_events(e);
}

ls_engine *ls_engine_create(const ls_device_config *config, const ls_fault *faults,
                            size_t fault_count, ls_output output, void *context, uint64_t now_ms,
                            char *error, size_t error_size)
{
    ls_engine *e = NULL;
    for (size_t i = 0; i < LS_ENGINE_POOL && !e; i++)
        if (!pool[i].in_use) e = &pool[i];
    if (!e) {
        if (error_size) {
            strncpy(error, "no free engine (LS_ENGINE_POOL)", error_size - 1);
            error[error_size - 1] = '\0';
        }
        return NULL;
    }
    memset(e, 0, sizeof *e);
    if (ls_device_init(&e->device, config, faults, fault_count, error, error_size) != 0)
        return NULL;
    e->in_use = 1;
    e->output = output;
    e->context = context;
    e->now_ms = now_ms;
    ls_decoder_init(&e->decoder);
    ls_device_set_time(&e->device, now_ms);
    e->events_sent_before = 1;
    boot(e);
    return e;
}

void ls_engine_destroy(ls_engine *e)
{
    if (e) e->in_use = 0;
}

static void set_time(ls_engine *e, uint64_t now_ms)
{
    if (now_ms > e->now_ms) e->now_ms = now_ms;
    ls_device_set_time(&e->device, e->now_ms);
}

void ls_engine_receive(ls_engine *e, const uint8_t *bytes, size_t count, uint64_t now_ms)
{
    ls_engine_tick(e, now_ms);
    if (e->rebooting) { /* a restarting device hears nothing */
        e->stats.ignored += count ? 1u : 0u;
        return;
    }
    ls_decoder_feed(&e->decoder, bytes, count, e->now_ms, on_frame, e);
}

/* One link-error event per period at most, counting every rejected frame since the last. */
static void log_link_errors(ls_engine *e)
{
    uint32_t rejected = e->decoder.rejected;
    if (rejected == e->link_errors_logged) return;
    if (e->link_error_event_seen &&
        e->now_ms - e->last_link_error_event_ms < LS_LINK_ERROR_EVENT_PERIOD_MS)
        return;
    uint32_t count = rejected - e->link_errors_logged;
    ls_device_log(&e->device, LS_EV_LINK_ERROR, LS_CABINET_SENDING_CARD,
                  (int16_t)(count > 32767u ? 32767u : count));
    e->link_errors_logged = rejected;
    e->link_error_event_seen = 1;
    e->last_link_error_event_ms = e->now_ms;
}

void ls_engine_tick(ls_engine *e, uint64_t now_ms)
{
    set_time(e, now_ms);
    if (e->rebooting) {
        if (e->now_ms >= e->reboot_done_ms) boot(e);
        return;
    }
    ls_decoder_poll(&e->decoder, e->now_ms, on_frame, e);
    if (e->module_test.active && e->now_ms >= e->module_test.due_ms) {
        ls_writer w = ls_writer_make(e->payload, sizeof e->payload);
        write_module_test(e, e->module_test.cabinet, &w);
        e->module_test.active = 0;
        respond(e, e->module_test.request_id, LS_CMD_MODULE_TEST, LS_ST_OK, e->payload, w.length);
    }
    if (e->now_ms >= e->next_monitor_ms) {
        ls_device_monitor(&e->device);
        log_link_errors(e);
        e->next_monitor_ms = e->now_ms + LS_MONITOR_PERIOD_MS;
    }
    send_new_events(e);
}

uint32_t ls_engine_idle_ms(const ls_engine *e, uint64_t now_ms)
{
    uint64_t due = e->next_monitor_ms;
    if (e->rebooting) due = e->reboot_done_ms;
    if (e->module_test.active && e->module_test.due_ms < due) due = e->module_test.due_ms;
    if (e->decoder.length && e->decoder.last_byte_ms + LS_FRAME_TIMEOUT_MS + 1u < due)
        due = e->decoder.last_byte_ms + LS_FRAME_TIMEOUT_MS + 1u;
    return due <= now_ms ? 0u : (uint32_t)(due - now_ms);
}

void ls_engine_link_reset(ls_engine *e) { e->decoder.length = 0; }

ls_device *ls_engine_device(ls_engine *e) { return &e->device; }

ls_engine_stats ls_engine_statistics(const ls_engine *e)
{
    ls_engine_stats s = e->stats;
    s.rejected = e->decoder.rejected;
    return s;
}
