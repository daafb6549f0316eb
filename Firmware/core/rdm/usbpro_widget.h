/* An emulated USB-Pro-style DMX/RDM widget (Enttec framing: 0x7E, label, 16-bit LE
 * length, payload, 0xE7) with a line of emulated RDM responders behind it.
 * No OS calls, no allocation: the host feeds bytes and the current time, and drains the
 * bytes the widget sends back. */
#ifndef LEDSENTRY_USBPRO_WIDGET_H
#define LEDSENTRY_USBPRO_WIDGET_H

#include "rdm_responder.h"

#define USBPRO_START 0x7E
#define USBPRO_END 0xE7
#define USBPRO_MAX_PAYLOAD 600
#define USBPRO_MAX_RESPONDERS 64

/* Labels (Enttec DMX USB Pro API 1.44 and OLA's extensions). */
enum usbpro_label {
    USBPRO_LABEL_GET_PARAMS = 3,
    USBPRO_LABEL_SET_PARAMS = 4,
    USBPRO_LABEL_RECEIVED_DMX = 5,
    USBPRO_LABEL_SEND_DMX = 6,
    USBPRO_LABEL_SEND_RDM = 7,
    USBPRO_LABEL_RECEIVE_MODE = 8,
    USBPRO_LABEL_SERIAL = 10,
    USBPRO_LABEL_SEND_RDM_DISCOVERY = 11,
    USBPRO_LABEL_RDM_TIMEOUT = 12,
    USBPRO_LABEL_HARDWARE_VERSION = 14,
    USBPRO_LABEL_MANUFACTURER = 77,
    USBPRO_LABEL_DEVICE = 78
};

/* Firmware 4.15: RDM on (>= 2.4) and no label 12 after a discovery reply (>= 4.15). */
#define USBPRO_FIRMWARE_MAJOR 4
#define USBPRO_FIRMWARE_MINOR 15

typedef enum { HUNT_START, READ_LABEL, READ_LEN_LO, READ_LEN_HI, READ_DATA, READ_END } usbpro_parse_state;

typedef struct {
    usbpro_parse_state state;
    uint8_t label;
    uint16_t length, filled;
    uint8_t data[USBPRO_MAX_PAYLOAD];
} usbpro_parser;

typedef struct {
    usbpro_parser parser;
    rdm_responder responders[USBPRO_MAX_RESPONDERS];
    unsigned responder_count;
    uint32_t serial;
    uint8_t dmx[513];
    uint16_t dmx_length;
    uint8_t break_time, mab_time, rate;
    uint32_t frames_seen;
    uint32_t reset_after; /* widget resets on this frame (0: never) */
    uint32_t rdm_requests, rdm_replies;

    uint8_t out[4096];
    size_t out_length;
} usbpro_widget;

/* Parses one fault spec: "sensor:2", "overtemp:0", "selftest:1", "ack-timer:3",
 * "ack-overflow:4", "vanish:5@40", "corrupt:6", "lamp:7", "collide:1", "widget-reset@25".
 * Returns 0, or -1 with a message in `error`. */
int usbpro_widget_apply_fault(usbpro_widget *w, const char *spec, char *error, size_t error_size);

/* `count` drivers with deterministic UIDs (ESTA 0x7FF0, prototype range) from `seed`. */
void usbpro_widget_init(usbpro_widget *w, unsigned count, uint32_t seed, uint32_t serial);
/* Feeds bytes from the host; replies accumulate in w->out. */
void usbpro_widget_feed(usbpro_widget *w, const uint8_t *bytes, size_t count, uint32_t now_ms);
/* Encodes one widget frame into `out`; returns bytes written or 0 if it does not fit. */
size_t usbpro_encode(uint8_t label, const uint8_t *payload, uint16_t length, uint8_t *out,
                     size_t capacity);

#endif
