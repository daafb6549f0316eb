/* Emulated LED driver answering RDM (E1.20). One table row per PID; every malformed
 * request is NACKed in one place (handle_get_set) with the reason E1.20 gives. */
#include "rdm_responder.h"

#include <string.h>

/* ---- Models ---------------------------------------------------------------------- */

static const rdm_personality four_channel_personalities[] = {
    {4, "4ch 8-bit RGBW"},
    {8, "4ch 16-bit RGBW"},
    {1, "1ch dimmer"},
};

static const rdm_personality one_channel_personalities[] = {
    {1, "1ch 8-bit"},
    {2, "1ch 16-bit"},
};

/* Sensor types/units/prefixes from E1.20 tables. */
static const rdm_sensor_definition driver_sensors[] = {
    /* type TEMPERATURE, unit CENTIGRADE */
    {0x00, 0x01, 0x00, -40, 150, 0, 85, 45, "Heatsink temperature"},
    /* type CURRENT, unit AMPERE_DC, prefix MILLI */
    {0x05, 0x05, 0x03, 0, 5000, 100, 3000, 1400, "Output current"},
    /* type VOLTAGE, unit VOLTS_DC, prefix DECI */
    {0x01, 0x03, 0x01, 0, 600, 200, 520, 480, "Output voltage"},
};

const rdm_model rdm_models[] = {
    {0x0401, 0x0509 /* DIMMER_CS_LED */, 0x00010200, "LEDSentry LD-400 4ch LED driver",
     "1.2.0", 3, four_channel_personalities, 3, driver_sensors},
    {0x0101, 0x0509, 0x00010007, "LEDSentry LD-100 1ch LED driver", "1.0.7", 2,
     one_channel_personalities, 3, driver_sensors},
};
const unsigned rdm_model_count = sizeof rdm_models / sizeof rdm_models[0];

static const char *const selftest_descriptions[] = {
    "LED string continuity",
    "Thermal sensor check",
};
#define SELFTEST_COUNT 2
#define SELFTEST_DURATION_MS 400
#define ACK_TIMER_DELAY_100MS 2
#define OVERFLOW_CHUNK 16

/* ---- Small helpers ------------------------------------------------------------- */

static uint32_t next_random(rdm_responder *r)
{
    /* xorshift32: deterministic for a given seed */
    uint32_t x = r->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    r->rng = x;
    return x;
}

static int16_t sensor_reading(rdm_responder *r, uint8_t index)
{
    const rdm_sensor_definition *d = &r->model->sensors[index];
    int32_t value = d->nominal + (int32_t)(next_random(r) % 5) - 2;
    if (index == 0 && (r->faults & RDM_FAULT_OVERTEMP))
        value = 97 + (int32_t)(next_random(r) % 3);
    if (index == 1 && (r->faults & RDM_FAULT_SENSOR))
        value = 0; /* open LED string: no current although output is on */
    return (int16_t)value;
}

static size_t put_text(uint8_t *out, const char *text, size_t limit)
{
    size_t n = strlen(text);
    if (n > limit)
        n = limit;
    memcpy(out, text, n);
    return n;
}

void rdm_responder_reset(rdm_responder *r, int cold)
{
    r->muted = 0;
    r->identify = 0;
    r->selftest_active = 0;
    r->queue_count = 0;
    r->overflow_pid = 0;
    if (cold)
        r->power_cycles++;
}

void rdm_responder_init(rdm_responder *r, rdm_uid uid, const rdm_model *model, uint32_t seed)
{
    memset(r, 0, sizeof *r);
    r->uid = uid;
    r->model = model;
    r->rng = seed ? seed : 0x9E3779B9u;
    r->start_address = 1;
    r->personality = 1;
    r->lamp_state = 0x01; /* LAMP_ON */
    r->device_hours = 1000 + next_random(r) % 20000;
    r->lamp_hours = r->device_hours - r->device_hours / 10;
    r->lamp_strikes = 50 + next_random(r) % 900;
    r->power_cycles = 20 + next_random(r) % 500;
    (void)put_text((uint8_t *)r->label, model->model_description, RDM_LABEL_MAX);
    for (uint8_t i = 0; i < model->sensor_count && i < RDM_MAX_SENSORS; i++)
        r->lowest[i] = r->highest[i] = model->sensors[i].nominal;
}

/* The status messages that are true now, at `min_type` severity or worse. */
static uint8_t collect_status(rdm_responder *r, uint8_t min_type, uint8_t *out)
{
    struct status_item { uint8_t type; uint16_t id; int16_t d1, d2; } items[4];
    unsigned n = 0;
    if (r->faults & RDM_FAULT_OVERTEMP)
        items[n++] = (struct status_item){RDM_STATUS_ERROR, RDM_STS_OVERTEMP, 0, 97};
    if (r->faults & RDM_FAULT_SENSOR)
        items[n++] = (struct status_item){RDM_STATUS_WARNING, RDM_STS_SENS_OUT_RANGE, 1, 0};
    if (r->faults & RDM_FAULT_LAMP)
        items[n++] = (struct status_item){RDM_STATUS_ERROR, RDM_STS_LAMP_DOUSED, 0, 0};
    if (r->selftest_outcome == 1)
        items[n++] = (struct status_item){RDM_STATUS_ADVISORY, RDM_STS_SELFTEST_PASSED,
                                        r->selftest_result_number, 0};
    else if (r->selftest_outcome == 2)
        items[n++] = (struct status_item){RDM_STATUS_ERROR, RDM_STS_SELFTEST_FAILED,
                                        r->selftest_result_number, 3};
    uint8_t pdl = 0;
    for (unsigned i = 0; i < n; i++) {
        if (items[i].type < min_type)
            continue;
        uint8_t *p = out + pdl;
        rdm_put16(p, 0); /* sub-device: root */
        p[2] = items[i].type;
        rdm_put16(p + 3, items[i].id);
        rdm_put16(p + 5, (uint16_t)items[i].d1);
        rdm_put16(p + 7, (uint16_t)items[i].d2);
        pdl = (uint8_t)(pdl + 9);
    }
    return pdl;
}

static void advance_clock(rdm_responder *r, uint32_t now_ms)
{
    if (r->selftest_active && (int32_t)(now_ms - r->selftest_done_ms) >= 0) {
        r->selftest_active = 0;
        int fails = (r->faults & RDM_FAULT_SELFTEST) &&
                    (r->selftest_number == 1 || r->selftest_number == 0xFF);
        r->selftest_outcome = fails ? 2 : 1;
        r->selftest_result_number = r->selftest_number == 0xFF ? 1 : r->selftest_number;
    }
}

/* ---- PID handlers: return a NACK reason, or -1 for ACK with resp->pdl set --------- */

typedef int (*pid_handler)(rdm_responder *r, const rdm_packet *req, rdm_packet *resp,
                           uint32_t now_ms);
#define ACK (-1)

static int get_device_info(rdm_responder *r, const rdm_packet *req, rdm_packet *resp, uint32_t now)
{
    (void)req; (void)now;
    const rdm_model *m = r->model;
    uint8_t *d = resp->data;
    rdm_put16(d, 0x0100); /* RDM protocol version 1.0 */
    rdm_put16(d + 2, m->model_id);
    rdm_put16(d + 4, m->product_category);
    rdm_put32(d + 6, m->software_version);
    rdm_put16(d + 10, m->personalities[r->personality - 1].footprint);
    d[12] = r->personality;
    d[13] = m->personality_count;
    rdm_put16(d + 14, r->start_address);
    rdm_put16(d + 16, 0); /* sub-devices */
    d[18] = m->sensor_count;
    resp->pdl = 19;
    return ACK;
}

static const uint16_t supported_pids[] = {
    RDM_PID_QUEUED_MESSAGE, RDM_PID_STATUS_MESSAGES, RDM_PID_DEVICE_MODEL_DESCRIPTION,
    RDM_PID_MANUFACTURER_LABEL, RDM_PID_DEVICE_LABEL, RDM_PID_DMX_PERSONALITY,
    RDM_PID_DMX_PERSONALITY_DESCRIPTION, RDM_PID_SENSOR_DEFINITION, RDM_PID_SENSOR_VALUE,
    RDM_PID_DEVICE_HOURS, RDM_PID_LAMP_HOURS, RDM_PID_LAMP_STRIKES, RDM_PID_LAMP_STATE,
    RDM_PID_DEVICE_POWER_CYCLES, RDM_PID_RESET_DEVICE, RDM_PID_PERFORM_SELFTEST,
    RDM_PID_SELF_TEST_DESCRIPTION,
};

static int get_supported_parameters(rdm_responder *r, const rdm_packet *req, rdm_packet *resp,
                                    uint32_t now)
{
    (void)r; (void)req; (void)now;
    /* E1.20 10.4.1: the required PIDs are not listed. */
    size_t n = sizeof supported_pids / sizeof supported_pids[0];
    for (size_t i = 0; i < n; i++)
        rdm_put16(resp->data + 2 * i, supported_pids[i]);
    resp->pdl = (uint8_t)(2 * n);
    return ACK;
}

static int get_text(rdm_packet *resp, const char *text)
{
    resp->pdl = (uint8_t)put_text(resp->data, text, RDM_LABEL_MAX);
    return ACK;
}

static int get_model_description(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)q; (void)t;
    return get_text(resp, r->model->model_description);
}

static int get_manufacturer_label(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)r; (void)q; (void)t;
    return get_text(resp, "LEDSentry Lighting");
}

static int get_software_label(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)q; (void)t;
    return get_text(resp, r->model->software_label);
}

static int get_device_label(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)q; (void)t;
    return get_text(resp, r->label);
}

static int set_device_label(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (q->pdl > RDM_LABEL_MAX)
        return RDM_NR_FORMAT_ERROR;
    memcpy(r->label, q->data, q->pdl);
    r->label[q->pdl] = 0;
    resp->pdl = 0;
    return ACK;
}

static int get_start_address(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)q; (void)t;
    rdm_put16(resp->data, r->start_address);
    resp->pdl = 2;
    return ACK;
}

static int set_start_address(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (q->pdl != 2)
        return RDM_NR_FORMAT_ERROR;
    uint16_t address = rdm_get16(q->data);
    if (address < 1 || address > 512)
        return RDM_NR_DATA_OUT_OF_RANGE;
    r->start_address = address;
    resp->pdl = 0;
    return ACK;
}

static int get_personality(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)q; (void)t;
    resp->data[0] = r->personality;
    resp->data[1] = r->model->personality_count;
    resp->pdl = 2;
    return ACK;
}

static int set_personality(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (q->pdl != 1)
        return RDM_NR_FORMAT_ERROR;
    if (q->data[0] < 1 || q->data[0] > r->model->personality_count)
        return RDM_NR_DATA_OUT_OF_RANGE;
    r->personality = q->data[0];
    resp->pdl = 0;
    return ACK;
}

static int get_personality_description(rdm_responder *r, const rdm_packet *q, rdm_packet *resp,
                                       uint32_t t)
{
    (void)t;
    uint8_t n = q->data[0];
    if (n < 1 || n > r->model->personality_count)
        return RDM_NR_DATA_OUT_OF_RANGE;
    const rdm_personality *p = &r->model->personalities[n - 1];
    resp->data[0] = n;
    rdm_put16(resp->data + 1, p->footprint);
    resp->pdl = (uint8_t)(3 + put_text(resp->data + 3, p->description, RDM_LABEL_MAX));
    return ACK;
}

static int get_sensor_definition(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    uint8_t n = q->data[0];
    if (n >= r->model->sensor_count)
        return RDM_NR_DATA_OUT_OF_RANGE;
    const rdm_sensor_definition *s = &r->model->sensors[n];
    uint8_t *d = resp->data;
    d[0] = n;
    d[1] = s->type;
    d[2] = s->unit;
    d[3] = s->prefix;
    rdm_put16(d + 4, (uint16_t)s->range_min);
    rdm_put16(d + 6, (uint16_t)s->range_max);
    rdm_put16(d + 8, (uint16_t)s->normal_min);
    rdm_put16(d + 10, (uint16_t)s->normal_max);
    d[12] = 0x02; /* lowest/highest supported; RECORD_SENSORS not supported */
    resp->pdl = (uint8_t)(13 + put_text(d + 13, s->description, RDM_LABEL_MAX));
    return ACK;
}

static void put_sensor_value(uint8_t *d, uint8_t n, int16_t present, int16_t lo, int16_t hi)
{
    d[0] = n;
    rdm_put16(d + 1, (uint16_t)present);
    rdm_put16(d + 3, (uint16_t)lo);
    rdm_put16(d + 5, (uint16_t)hi);
    rdm_put16(d + 7, 0); /* recorded value: not supported */
}

static int get_sensor_value(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    uint8_t n = q->data[0];
    if (n >= r->model->sensor_count)
        return RDM_NR_DATA_OUT_OF_RANGE;
    int16_t value = sensor_reading(r, n);
    if (value < r->lowest[n])
        r->lowest[n] = value;
    if (value > r->highest[n])
        r->highest[n] = value;
    put_sensor_value(resp->data, n, value, r->lowest[n], r->highest[n]);
    resp->pdl = 9;
    return ACK;
}

static int set_sensor_value(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (q->pdl != 1)
        return RDM_NR_FORMAT_ERROR;
    uint8_t n = q->data[0];
    if (n != 0xFF && n >= r->model->sensor_count)
        return RDM_NR_DATA_OUT_OF_RANGE;
    for (uint8_t i = 0; i < r->model->sensor_count; i++) {
        if (n == 0xFF || n == i) {
            int16_t value = sensor_reading(r, i);
            r->lowest[i] = r->highest[i] = value;
        }
    }
    if (n == 0xFF)
        put_sensor_value(resp->data, 0xFF, 0, 0, 0);
    else
        put_sensor_value(resp->data, n, r->lowest[n], r->lowest[n], r->highest[n]);
    resp->pdl = 9;
    return ACK;
}

static uint32_t *counter_for(rdm_responder *r, uint16_t pid)
{
    switch (pid) {
    case RDM_PID_DEVICE_HOURS: return &r->device_hours;
    case RDM_PID_LAMP_HOURS: return &r->lamp_hours;
    case RDM_PID_LAMP_STRIKES: return &r->lamp_strikes;
    default: return &r->power_cycles;
    }
}

static int get_counter(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    uint32_t value = *counter_for(r, q->pid);
    if (q->pid == RDM_PID_DEVICE_HOURS || q->pid == RDM_PID_LAMP_HOURS)
        value += t / 3600000u; /* the emulator's own running hours */
    rdm_put32(resp->data, value);
    resp->pdl = 4;
    return ACK;
}

static int set_counter(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (q->pdl != 4)
        return RDM_NR_FORMAT_ERROR;
    *counter_for(r, q->pid) = rdm_get32(q->data);
    resp->pdl = 0;
    return ACK;
}

static int get_lamp_state(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)q; (void)t;
    resp->data[0] = (r->faults & RDM_FAULT_LAMP) ? 0x7F /* LAMP_ERROR */ : r->lamp_state;
    resp->pdl = 1;
    return ACK;
}

static int set_lamp_state(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (q->pdl != 1)
        return RDM_NR_FORMAT_ERROR;
    if (q->data[0] > 0x03) /* OFF, ON, STRIKE, STANDBY may be set */
        return RDM_NR_DATA_OUT_OF_RANGE;
    r->lamp_state = q->data[0] == 0x02 ? 0x01 : q->data[0];
    if (q->data[0] == 0x02)
        r->lamp_strikes++;
    resp->pdl = 0;
    return ACK;
}

static int get_identify(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)q; (void)t;
    resp->data[0] = r->identify;
    resp->pdl = 1;
    return ACK;
}

static int set_identify(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (q->pdl != 1)
        return RDM_NR_FORMAT_ERROR;
    if (q->data[0] > 1)
        return RDM_NR_DATA_OUT_OF_RANGE;
    r->identify = q->data[0];
    resp->pdl = 0;
    return ACK;
}

static int set_reset_device(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (q->pdl != 1)
        return RDM_NR_FORMAT_ERROR;
    if (q->data[0] != 0x01 && q->data[0] != 0xFF)
        return RDM_NR_DATA_OUT_OF_RANGE;
    rdm_responder_reset(r, q->data[0] == 0xFF);
    resp->pdl = 0;
    return ACK;
}

static int get_perform_selftest(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)q; (void)t;
    resp->data[0] = r->selftest_active;
    resp->pdl = 1;
    return ACK;
}

static int set_perform_selftest(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    if (q->pdl != 1)
        return RDM_NR_FORMAT_ERROR;
    uint8_t n = q->data[0];
    if (n == 0) {
        r->selftest_active = 0;
    } else if (n == 0xFF || n <= SELFTEST_COUNT) {
        r->selftest_active = 1;
        r->selftest_number = n;
        r->selftest_outcome = 0;
        r->selftest_done_ms = t + SELFTEST_DURATION_MS;
    } else {
        return RDM_NR_DATA_OUT_OF_RANGE;
    }
    resp->pdl = 0;
    return ACK;
}

static int get_selftest_description(rdm_responder *r, const rdm_packet *q, rdm_packet *resp,
                                    uint32_t t)
{
    (void)r; (void)t;
    uint8_t n = q->data[0];
    if (n < 1 || n > SELFTEST_COUNT)
        return RDM_NR_DATA_OUT_OF_RANGE;
    resp->data[0] = n;
    resp->pdl = (uint8_t)(1 + put_text(resp->data + 1, selftest_descriptions[n - 1], RDM_LABEL_MAX));
    return ACK;
}

static int valid_status_request(const rdm_packet *q, int allow_none)
{
    uint8_t type = q->data[0];
    return (allow_none && type == RDM_STATUS_NONE) ||
           (type >= RDM_STATUS_GET_LAST_MESSAGE && type <= RDM_STATUS_ERROR);
}

static int get_status_messages(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    (void)t;
    if (!valid_status_request(q, 1))
        return RDM_NR_DATA_OUT_OF_RANGE;
    if (q->data[0] == RDM_STATUS_NONE) {
        resp->pdl = 0;
    } else if (q->data[0] == RDM_STATUS_GET_LAST_MESSAGE) {
        memcpy(resp->data, r->last_status, r->last_status_pdl);
        resp->pdl = r->last_status_pdl;
    } else {
        resp->pdl = collect_status(r, q->data[0], resp->data);
        memcpy(r->last_status, resp->data, resp->pdl);
        r->last_status_pdl = resp->pdl;
    }
    return ACK;
}

static void answer_from_queue(const rdm_queued_response *m, rdm_packet *resp)
{
    resp->pid = m->pid;
    resp->command_class = m->command_class;
    resp->pdl = m->pdl;
    memcpy(resp->data, m->data, m->pdl);
}

static int get_queued_message(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t t)
{
    if (!valid_status_request(q, 0))
        return RDM_NR_DATA_OUT_OF_RANGE;
    if (q->data[0] == RDM_STATUS_GET_LAST_MESSAGE && r->has_last_queued) {
        answer_from_queue(&r->last_queued, resp);
        return ACK;
    }
    for (uint8_t i = 0; i < r->queue_count; i++) {
        if ((int32_t)(t - r->queue[i].ready_ms) < 0)
            continue;
        r->last_queued = r->queue[i];
        r->has_last_queued = 1;
        memmove(&r->queue[i], &r->queue[i + 1], (size_t)(r->queue_count - i - 1) * sizeof r->queue[0]);
        r->queue_count--;
        answer_from_queue(&r->last_queued, resp);
        return ACK;
    }
    /* E1.20 10.3.1: with nothing queued, answer as STATUS_MESSAGES would. */
    resp->pid = RDM_PID_STATUS_MESSAGES;
    uint8_t type = q->data[0] == RDM_STATUS_GET_LAST_MESSAGE ? RDM_STATUS_ADVISORY : q->data[0];
    resp->pdl = collect_status(r, type, resp->data);
    return ACK;
}

typedef struct {
    uint16_t pid;
    pid_handler get;
    pid_handler set;
    int8_t get_pdl; /* the exact PDL a GET must carry */
} pid_row;

static const pid_row pid_table[] = {
    {RDM_PID_QUEUED_MESSAGE, get_queued_message, NULL, 1},
    {RDM_PID_STATUS_MESSAGES, get_status_messages, NULL, 1},
    {RDM_PID_SUPPORTED_PARAMETERS, get_supported_parameters, NULL, 0},
    {RDM_PID_DEVICE_INFO, get_device_info, NULL, 0},
    {RDM_PID_DEVICE_MODEL_DESCRIPTION, get_model_description, NULL, 0},
    {RDM_PID_MANUFACTURER_LABEL, get_manufacturer_label, NULL, 0},
    {RDM_PID_DEVICE_LABEL, get_device_label, set_device_label, 0},
    {RDM_PID_SOFTWARE_VERSION_LABEL, get_software_label, NULL, 0},
    {RDM_PID_DMX_PERSONALITY, get_personality, set_personality, 0},
    {RDM_PID_DMX_PERSONALITY_DESCRIPTION, get_personality_description, NULL, 1},
    {RDM_PID_DMX_START_ADDRESS, get_start_address, set_start_address, 0},
    {RDM_PID_SENSOR_DEFINITION, get_sensor_definition, NULL, 1},
    {RDM_PID_SENSOR_VALUE, get_sensor_value, set_sensor_value, 1},
    {RDM_PID_DEVICE_HOURS, get_counter, set_counter, 0},
    {RDM_PID_LAMP_HOURS, get_counter, set_counter, 0},
    {RDM_PID_LAMP_STRIKES, get_counter, set_counter, 0},
    {RDM_PID_LAMP_STATE, get_lamp_state, set_lamp_state, 0},
    {RDM_PID_DEVICE_POWER_CYCLES, get_counter, set_counter, 0},
    {RDM_PID_IDENTIFY_DEVICE, get_identify, set_identify, 0},
    {RDM_PID_RESET_DEVICE, NULL, set_reset_device, 0},
    {RDM_PID_PERFORM_SELFTEST, get_perform_selftest, set_perform_selftest, 0},
    {RDM_PID_SELF_TEST_DESCRIPTION, get_selftest_description, NULL, 1},
};

static const pid_row *find_pid(uint16_t pid)
{
    for (size_t i = 0; i < sizeof pid_table / sizeof pid_table[0]; i++)
        if (pid_table[i].pid == pid)
            return &pid_table[i];
    return NULL;
}

/* Measurements that a driver with RDM_FAULT_ACK_TIMER answers later. */
static int is_slow_pid(uint16_t pid)
{
    return pid == RDM_PID_SENSOR_VALUE || pid == RDM_PID_DEVICE_HOURS ||
           pid == RDM_PID_LAMP_HOURS || pid == RDM_PID_LAMP_STRIKES ||
           pid == RDM_PID_DEVICE_POWER_CYCLES;
}

static void set_nack(rdm_packet *resp, uint16_t reason)
{
    resp->port_or_response = RDM_NACK_REASON;
    rdm_put16(resp->data, reason);
    resp->pdl = 2;
}

/* GET and SET: every NACK reason for a malformed request is decided here. */
static void handle_get_set(rdm_responder *r, const rdm_packet *q, rdm_packet *resp, uint32_t now)
{
    int is_get = q->command_class == RDM_GET_COMMAND;
    if (!is_get && q->command_class != RDM_SET_COMMAND) {
        set_nack(resp, RDM_NR_UNSUPPORTED_COMMAND_CLASS);
        return;
    }
    const pid_row *row = find_pid(q->pid);
    if (row == NULL) {
        int discovery = q->pid == RDM_PID_DISC_UNIQUE_BRANCH || q->pid == RDM_PID_DISC_MUTE ||
                        q->pid == RDM_PID_DISC_UN_MUTE;
        set_nack(resp, discovery ? RDM_NR_UNSUPPORTED_COMMAND_CLASS : RDM_NR_UNKNOWN_PID);
        return;
    }
    /* Only the root device exists; a GET to all sub-devices is never allowed (E1.20 9.2.2). */
    if ((q->sub_device != 0 && q->sub_device != 0xFFFF) || (is_get && q->sub_device == 0xFFFF)) {
        set_nack(resp, RDM_NR_SUB_DEVICE_OUT_OF_RANGE);
        return;
    }
    pid_handler handler = is_get ? row->get : row->set;
    if (handler == NULL) {
        set_nack(resp, RDM_NR_UNSUPPORTED_COMMAND_CLASS);
        return;
    }
    if (is_get && q->pdl != row->get_pdl) {
        set_nack(resp, RDM_NR_FORMAT_ERROR);
        return;
    }
    int outcome = handler(r, q, resp, now);
    if (outcome != ACK) {
        set_nack(resp, (uint16_t)outcome);
        return;
    }
    resp->port_or_response = RDM_ACK;

    if (is_get && (r->faults & RDM_FAULT_ACK_TIMER) && is_slow_pid(q->pid) &&
        r->queue_count < RDM_MAX_QUEUED) {
        rdm_queued_response *m = &r->queue[r->queue_count++];
        m->ready_ms = now + ACK_TIMER_DELAY_100MS * 100u;
        m->pid = resp->pid;
        m->command_class = resp->command_class;
        m->pdl = resp->pdl;
        memcpy(m->data, resp->data, resp->pdl);
        resp->port_or_response = RDM_ACK_TIMER;
        rdm_put16(resp->data, ACK_TIMER_DELAY_100MS);
        resp->pdl = 2;
    }
}

/* Splits a long ACK into ACK_OVERFLOW chunks; the controller repeats the GET for each. */
static void apply_overflow(rdm_responder *r, const rdm_packet *q, rdm_packet *resp)
{
    if (!(r->faults & RDM_FAULT_ACK_OVERFLOW) || q->command_class != RDM_GET_COMMAND ||
        resp->port_or_response != RDM_ACK || resp->pdl <= OVERFLOW_CHUNK) {
        r->overflow_pid = 0;
        return;
    }
    uint8_t offset = r->overflow_pid == q->pid ? r->overflow_offset : 0;
    if (offset >= resp->pdl)
        offset = 0;
    uint8_t remaining = (uint8_t)(resp->pdl - offset);
    uint8_t chunk = remaining > OVERFLOW_CHUNK ? OVERFLOW_CHUNK : remaining;
    memmove(resp->data, resp->data + offset, chunk);
    resp->pdl = chunk;
    if (remaining > OVERFLOW_CHUNK) {
        resp->port_or_response = RDM_ACK_OVERFLOW;
        r->overflow_pid = q->pid;
        r->overflow_offset = (uint8_t)(offset + chunk);
    } else {
        r->overflow_pid = 0;
    }
}

static rdm_reply_kind handle_discovery(rdm_responder *r, const rdm_packet *q, rdm_packet *resp,
                                       uint8_t *out, size_t capacity, size_t *written)
{
    int to_me = rdm_uid_equal(q->destination, r->uid);
    switch (q->pid) {
    case RDM_PID_DISC_UNIQUE_BRANCH: {
        if (q->pdl != 12 || r->muted || capacity < RDM_DUB_RESPONSE_SIZE)
            return RDM_REPLY_NONE;
        uint64_t lower = ((uint64_t)rdm_get16(q->data) << 32) | rdm_get32(q->data + 2);
        uint64_t upper = ((uint64_t)rdm_get16(q->data + 6) << 32) | rdm_get32(q->data + 8);
        uint64_t me = rdm_uid_to_u64(r->uid);
        if (me < lower || me > upper)
            return RDM_REPLY_NONE;
        rdm_encode_dub_response(r->uid, out);
        *written = RDM_DUB_RESPONSE_SIZE;
        return RDM_REPLY_DUB;
    }
    case RDM_PID_DISC_MUTE:
    case RDM_PID_DISC_UN_MUTE:
        if (q->pdl != 0)
            return RDM_REPLY_NONE;
        r->muted = q->pid == RDM_PID_DISC_MUTE;
        if (!to_me)
            return RDM_REPLY_NONE;
        rdm_put16(resp->data, 0); /* control field: no sub-devices, no proxy, no boot */
        resp->pdl = 2;
        resp->port_or_response = RDM_ACK;
        return RDM_REPLY_FRAME;
    default:
        if (!to_me)
            return RDM_REPLY_NONE;
        set_nack(resp, RDM_NR_UNKNOWN_PID);
        return RDM_REPLY_FRAME;
    }
}

rdm_reply_kind rdm_responder_handle(rdm_responder *r, const rdm_packet *q, uint32_t now_ms,
                                    uint8_t *out, size_t capacity, size_t *written)
{
    *written = 0;
    if (!rdm_uid_addresses(q->destination, r->uid))
        return RDM_REPLY_NONE;
    r->packets_seen++;
    if ((r->faults & RDM_FAULT_VANISH) && r->packets_seen > r->vanish_after)
        return RDM_REPLY_NONE;
    advance_clock(r, now_ms);

    static rdm_packet resp; /* one responder runs at a time; keeps the stack small */
    memset(&resp, 0, RDM_HEADER_SIZE + 8);
    resp.destination = q->source;
    resp.source = r->uid;
    resp.transaction = q->transaction;
    resp.sub_device = q->sub_device;
    resp.command_class = (uint8_t)(q->command_class + 1);
    resp.pid = q->pid;

    rdm_reply_kind kind;
    if (q->command_class == RDM_DISCOVERY_COMMAND) {
        kind = handle_discovery(r, q, &resp, out, capacity, written);
        if (kind != RDM_REPLY_FRAME)
            return kind;
    } else {
        handle_get_set(r, q, &resp, now_ms);
        if (rdm_uid_is_broadcast(q->destination))
            return RDM_REPLY_NONE; /* broadcasts are acted on, never answered */
        apply_overflow(r, q, &resp);
    }
    resp.message_count = r->queue_count;
    if (rdm_serialize(&resp, out, capacity, written) != RDM_OK)
        return RDM_REPLY_NONE;
    if ((r->faults & RDM_FAULT_CORRUPT) && next_random(r) % 3 == 0)
        out[RDM_HEADER_SIZE / 2 + next_random(r) % (*written - RDM_HEADER_SIZE / 2)] ^= 0x10;
    return RDM_REPLY_FRAME;
}
