/* Emulated USB-Pro widget: framing, the labels OLA and LEDSentry use, and the RDM line
 * (every responder hears every request; simultaneous discovery replies collide). */
#include "usbpro_widget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEDSENTRY_ESTA_ID 0x7FF0

size_t usbpro_encode(uint8_t label, const uint8_t *payload, uint16_t length, uint8_t *out,
                     size_t capacity)
{
    if (capacity < (size_t)length + 5)
        return 0;
    out[0] = USBPRO_START;
    out[1] = label;
    out[2] = (uint8_t)(length & 0xFF);
    out[3] = (uint8_t)(length >> 8);
    if (length)
        memcpy(out + 4, payload, length);
    out[4 + length] = USBPRO_END;
    return (size_t)length + 5;
}

static void send_frame(usbpro_widget *w, uint8_t label, const uint8_t *payload, uint16_t length)
{
    w->out_length += usbpro_encode(label, payload, length, w->out + w->out_length,
                                   sizeof w->out - w->out_length);
}

static uint32_t mix(uint32_t x)
{
    /* a 32-bit integer hash (lowbias32) to derive UIDs and seeds from one seed */
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static int uid_taken(const usbpro_widget *w, unsigned upto, uint32_t device)
{
    for (unsigned i = 0; i < upto; i++)
        if (w->responders[i].uid.device == device)
            return 1;
    return device == 0 || device == 0xFFFFFFFFu;
}

void usbpro_widget_init(usbpro_widget *w, unsigned count, uint32_t seed, uint32_t serial)
{
    memset(w, 0, sizeof *w);
    if (count > USBPRO_MAX_RESPONDERS)
        count = USBPRO_MAX_RESPONDERS;
    w->responder_count = count;
    w->serial = serial;
    w->break_time = 9;
    w->mab_time = 1;
    w->rate = 40;
    for (unsigned i = 0; i < count; i++) {
        uint32_t device = mix(seed * 2654435761u + i + 1);
        while (uid_taken(w, i, device))
            device = mix(device + 1);
        rdm_uid uid = {LEDSENTRY_ESTA_ID, device};
        rdm_responder_init(&w->responders[i], uid, &rdm_models[i % rdm_model_count],
                           mix(device ^ seed) | 1);
    }
}

int usbpro_widget_apply_fault(usbpro_widget *w, const char *spec, char *error, size_t error_size)
{
    static const struct { const char *name; uint32_t bit; } kinds[] = {
        {"sensor", RDM_FAULT_SENSOR}, {"overtemp", RDM_FAULT_OVERTEMP},
        {"selftest", RDM_FAULT_SELFTEST}, {"ack-timer", RDM_FAULT_ACK_TIMER},
        {"ack-overflow", RDM_FAULT_ACK_OVERFLOW}, {"vanish", RDM_FAULT_VANISH},
        {"corrupt", RDM_FAULT_CORRUPT}, {"lamp", RDM_FAULT_LAMP}, {"collide", 0},
    };
    if (strncmp(spec, "widget-reset@", 13) == 0) {
        char *end;
        unsigned long n = strtoul(spec + 13, &end, 10);
        if (*end || n == 0) {
            snprintf(error, error_size, "fault '%s': expected widget-reset@FRAMES (FRAMES >= 1)", spec);
            return -1;
        }
        w->reset_after = (uint32_t)n;
        return 0;
    }
    const char *colon = strchr(spec, ':');
    size_t name_length = colon ? (size_t)(colon - spec) : strlen(spec);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (strlen(kinds[k].name) != name_length || strncmp(spec, kinds[k].name, name_length) != 0)
            continue;
        if (!colon) {
            snprintf(error, error_size, "fault '%s': expected %s:DRIVER (a driver index)", spec,
                     kinds[k].name);
            return -1;
        }
        char *end;
        unsigned long index = strtoul(colon + 1, &end, 10);
        unsigned long after = 0;
        if (*end == '@' && kinds[k].bit == RDM_FAULT_VANISH)
            after = strtoul(end + 1, &end, 10);
        if (*end || end == colon + 1 || index >= w->responder_count) {
            snprintf(error, error_size, "fault '%s': driver index must be 0..%u%s", spec,
                     w->responder_count ? w->responder_count - 1 : 0,
                     kinds[k].bit == RDM_FAULT_VANISH ? " (vanish:DRIVER@PACKETS)" : "");
            return -1;
        }
        rdm_responder *r = &w->responders[index];
        if (kinds[k].bit == 0) {
            /* collide: take the UID next to another driver's, so their discovery replies
             * collide on every branch down to the last bit */
            if (w->responder_count < 2) {
                snprintf(error, error_size, "fault '%s': needs at least 2 drivers", spec);
                return -1;
            }
            const rdm_responder *other = &w->responders[index == 0 ? 1 : index - 1];
            r->uid.device = other->uid.device ^ 1u;
            return 0;
        }
        r->faults |= kinds[k].bit;
        r->vanish_after = (uint32_t)after;
        return 0;
    }
    snprintf(error, error_size,
             "unknown fault '%s' (sensor, overtemp, selftest, ack-timer, ack-overflow, "
             "vanish, corrupt, lamp, collide, widget-reset@N)", spec);
    return -1;
}

static void reply_text(usbpro_widget *w, uint8_t label, uint16_t id, const char *text)
{
    uint8_t payload[2 + 32];
    payload[0] = (uint8_t)(id & 0xFF);
    payload[1] = (uint8_t)(id >> 8);
    size_t n = strlen(text);
    memcpy(payload + 2, text, n);
    send_frame(w, label, payload, (uint16_t)(2 + n));
}

/* Puts an RDM request on the line and reports what came back, as the widget does:
 * label 5 (status byte + what was received) or label 12 (nothing came back). */
static void run_rdm(usbpro_widget *w, const uint8_t *frame, uint16_t length, uint32_t now_ms,
                    int discovery)
{
    static rdm_packet request;
    static uint8_t line[1 + RDM_MAX_FRAME];
    static uint8_t reply[RDM_MAX_FRAME];
    w->rdm_requests++;
    if (rdm_parse(frame, length, &request) != RDM_OK) {
        /* responders ignore what they cannot parse: the line stays silent */
        send_frame(w, USBPRO_LABEL_RDM_TIMEOUT, NULL, 0);
        return;
    }
    size_t line_length = 0;
    unsigned speakers = 0;
    for (unsigned i = 0; i < w->responder_count; i++) {
        size_t n = 0;
        rdm_reply_kind kind = rdm_responder_handle(&w->responders[i], &request, now_ms, reply,
                                                   sizeof reply, &n);
        if (kind == RDM_REPLY_NONE || n == 0)
            continue;
        /* Drivers talking at once: the receiver sees the bits OR-ed together (a fair
         * model of an RS-485 collision that keeps framing but breaks checksums). */
        for (size_t k = 0; k < n; k++)
            line[1 + k] = speakers ? (uint8_t)(line[1 + k] | reply[k]) : reply[k];
        if (n > line_length)
            line_length = n;
        speakers++;
    }
    int broadcast = rdm_uid_is_broadcast(request.destination);
    if (speakers == 0 || (broadcast && !discovery && request.pid != RDM_PID_DISC_UNIQUE_BRANCH)) {
        send_frame(w, USBPRO_LABEL_RDM_TIMEOUT, NULL, 0);
        return;
    }
    line[0] = 0; /* status: no receive error */
    w->rdm_replies++;
    send_frame(w, USBPRO_LABEL_RECEIVED_DMX, line, (uint16_t)(line_length + 1));
}

static void reset_widget(usbpro_widget *w)
{
    /* a brown-out: the request in flight is lost, the drivers see the line drop */
    for (unsigned i = 0; i < w->responder_count; i++)
        w->responders[i].muted = 0;
    w->dmx_length = 0;
}

static void handle_frame(usbpro_widget *w, uint8_t label, const uint8_t *data, uint16_t length,
                         uint32_t now_ms)
{
    w->frames_seen++;
    if (w->reset_after && w->frames_seen == w->reset_after) {
        reset_widget(w);
        return;
    }
    switch (label) {
    case USBPRO_LABEL_GET_PARAMS: {
        uint16_t user = length >= 2 ? (uint16_t)(data[0] | (data[1] << 8)) : 0;
        uint8_t reply[5 + 508];
        if (user > 508)
            user = 508;
        reply[0] = USBPRO_FIRMWARE_MINOR;
        reply[1] = USBPRO_FIRMWARE_MAJOR;
        reply[2] = w->break_time;
        reply[3] = w->mab_time;
        reply[4] = w->rate;
        memset(reply + 5, 0, user);
        send_frame(w, USBPRO_LABEL_GET_PARAMS, reply, (uint16_t)(5 + user));
        break;
    }
    case USBPRO_LABEL_SET_PARAMS:
        if (length >= 5) {
            w->break_time = data[2];
            w->mab_time = data[3];
            w->rate = data[4];
        }
        break;
    case USBPRO_LABEL_SEND_DMX:
        if (length >= 1 && length <= 513) {
            memcpy(w->dmx, data, length);
            w->dmx_length = length;
        }
        break;
    case USBPRO_LABEL_SEND_RDM:
        run_rdm(w, data, length, now_ms, 0);
        break;
    case USBPRO_LABEL_SEND_RDM_DISCOVERY:
        run_rdm(w, data, length, now_ms, 1);
        break;
    case USBPRO_LABEL_SERIAL: {
        uint8_t s[4] = {(uint8_t)w->serial, (uint8_t)(w->serial >> 8), (uint8_t)(w->serial >> 16),
                        (uint8_t)(w->serial >> 24)};
        send_frame(w, USBPRO_LABEL_SERIAL, s, 4);
        break;
    }
    case USBPRO_LABEL_HARDWARE_VERSION: {
        uint8_t version = 1; /* a single-port widget */
        send_frame(w, USBPRO_LABEL_HARDWARE_VERSION, &version, 1);
        break;
    }
    case USBPRO_LABEL_MANUFACTURER:
        reply_text(w, label, LEDSENTRY_ESTA_ID, "LEDSentry");
        break;
    case USBPRO_LABEL_DEVICE:
        reply_text(w, label, 0x0001, "LEDSentry RDM widget (emulated)");
        break;
    default:
        break; /* unknown labels are ignored, as a real widget does */
    }
}

void usbpro_widget_feed(usbpro_widget *w, const uint8_t *bytes, size_t count, uint32_t now_ms)
{
    usbpro_parser *p = &w->parser;
    for (size_t i = 0; i < count; i++) {
        uint8_t b = bytes[i];
        switch (p->state) {
        case HUNT_START:
            if (b == USBPRO_START)
                p->state = READ_LABEL;
            break;
        case READ_LABEL:
            p->label = b;
            p->state = READ_LEN_LO;
            break;
        case READ_LEN_LO:
            p->length = b;
            p->state = READ_LEN_HI;
            break;
        case READ_LEN_HI:
            p->length = (uint16_t)(p->length | (b << 8));
            p->filled = 0;
            if (p->length > USBPRO_MAX_PAYLOAD)
                p->state = HUNT_START; /* not a frame we accept: hunt again */
            else
                p->state = p->length ? READ_DATA : READ_END;
            break;
        case READ_DATA:
            p->data[p->filled++] = b;
            if (p->filled == p->length)
                p->state = READ_END;
            break;
        case READ_END:
            if (b == USBPRO_END)
                handle_frame(w, p->label, p->data, p->length, now_ms);
            p->state = b == USBPRO_START ? READ_LABEL : HUNT_START;
            if (b == USBPRO_END)
                p->state = HUNT_START;
            break;
        }
    }
}
