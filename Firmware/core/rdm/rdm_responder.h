/* An emulated RDM responder: an LED driver with sensors, counters, status messages and a
 * self-test, answering as ANSI E1.20 says. Table-driven (one row per PID), fixed-size
 * state, no allocation, no OS calls: time comes in as `now_ms`. */
#ifndef LEDSENTRY_RDM_RESPONDER_H
#define LEDSENTRY_RDM_RESPONDER_H

#include "rdm.h"

#define RDM_MAX_SENSORS 4
#define RDM_MAX_QUEUED 8
#define RDM_LABEL_MAX 32

/* Manufacturer-specific status message ids (E1.20 allows 0x8000-0xFFDF). */
#define RDM_STS_SELFTEST_PASSED 0x8001
#define RDM_STS_SELFTEST_FAILED 0x8002
/* Standard status message ids used here (table B-2). */
#define RDM_STS_LAMP_DOUSED 0x0011
#define RDM_STS_OVERTEMP 0x0021
#define RDM_STS_SENS_OUT_RANGE 0x0023

/* Injected faults, one bit each. */
enum rdm_fault {
    RDM_FAULT_SENSOR = 1u << 0,       /* output-current sensor reads out of range */
    RDM_FAULT_OVERTEMP = 1u << 1,     /* temperature above its normal range */
    RDM_FAULT_SELFTEST = 1u << 2,     /* self-test 1 fails */
    RDM_FAULT_ACK_TIMER = 1u << 3,    /* measurements answered with ACK_TIMER */
    RDM_FAULT_ACK_OVERFLOW = 1u << 4, /* long replies split with ACK_OVERFLOW */
    RDM_FAULT_VANISH = 1u << 5,       /* stops answering after `vanish_after` packets */
    RDM_FAULT_CORRUPT = 1u << 6,      /* some replies have a byte flipped */
    RDM_FAULT_LAMP = 1u << 7          /* LED output failed: LAMP_STATE error */
};

typedef struct {
    uint8_t type, unit, prefix;
    int16_t range_min, range_max, normal_min, normal_max;
    int16_t nominal;  /* the healthy reading */
    const char *description;
} rdm_sensor_definition;

typedef struct {
    uint16_t footprint;
    const char *description;
} rdm_personality;

typedef struct {
    uint16_t model_id;
    uint16_t product_category;
    uint32_t software_version;
    const char *model_description;
    const char *software_label;
    uint8_t personality_count;
    const rdm_personality *personalities;
    uint8_t sensor_count;
    const rdm_sensor_definition *sensors;
} rdm_model;

extern const rdm_model rdm_models[];
extern const unsigned rdm_model_count;

typedef struct {
    uint32_t ready_ms;
    uint16_t pid;
    uint8_t command_class; /* the response's command class */
    uint8_t pdl;
    uint8_t data[RDM_MAX_PDL];
} rdm_queued_response;

typedef struct {
    rdm_uid uid;
    const rdm_model *model;
    uint32_t faults;
    uint32_t vanish_after; /* packets; with RDM_FAULT_VANISH */
    uint32_t packets_seen;
    uint32_t rng;

    int muted;
    char label[RDM_LABEL_MAX + 1];
    uint16_t start_address;
    uint8_t personality; /* 1-based */
    uint8_t identify;
    uint8_t lamp_state;
    uint32_t device_hours, lamp_hours, lamp_strikes, power_cycles;
    int16_t lowest[RDM_MAX_SENSORS], highest[RDM_MAX_SENSORS];

    uint8_t selftest_active, selftest_number, selftest_result_number;
    uint8_t selftest_outcome; /* 0 none yet, 1 passed, 2 failed */
    uint32_t selftest_done_ms;

    rdm_queued_response queue[RDM_MAX_QUEUED];
    uint8_t queue_count;
    rdm_queued_response last_queued; /* for QUEUED_MESSAGE "get last message" */
    uint8_t has_last_queued;
    uint8_t last_status[RDM_MAX_PDL];
    uint8_t last_status_pdl;

    uint16_t overflow_pid; /* an ACK_OVERFLOW transfer in progress, 0 if none */
    uint8_t overflow_offset;
} rdm_responder;

typedef enum {
    RDM_REPLY_NONE = 0, /* say nothing on the line */
    RDM_REPLY_FRAME,    /* an RDM response frame */
    RDM_REPLY_DUB       /* a raw discovery response (no break, no start code) */
} rdm_reply_kind;

/* Sets up a healthy responder; `seed` varies its counters and readings. */
void rdm_responder_init(rdm_responder *r, rdm_uid uid, const rdm_model *model, uint32_t seed);
/* Back to power-on state (RESET_DEVICE, or the widget resetting the line). */
void rdm_responder_reset(rdm_responder *r, int cold);
/* Handles one request (already checked by rdm_parse). */
rdm_reply_kind rdm_responder_handle(rdm_responder *r, const rdm_packet *request, uint32_t now_ms,
                                    uint8_t *out, size_t capacity, size_t *written);

#endif
