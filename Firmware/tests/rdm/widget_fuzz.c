/* libFuzzer target: the emulated USB-Pro widget and its RDM drivers. The input is read as a
 * sequence of requests (label choice, RDM header fields, PDL, data), wrapped in valid RDM
 * checksums and widget frames most of the time so fuzzing reaches the PID handlers, and fed
 * raw otherwise. Every byte the widget sends must form whole widget frames, and every RDM
 * reply in them must parse. */
#include "../../core/rdm/usbpro_widget.h"

#include <stdlib.h>
#include <string.h>

static usbpro_widget w;

static void check_output(void)
{
    size_t at = 0;
    while (at < w.out_length) {
        if (w.out[at] != USBPRO_START || at + 5 > w.out_length) abort();
        size_t len = (size_t)w.out[at + 2] | (size_t)w.out[at + 3] << 8;
        if (at + len + 5 > w.out_length || w.out[at + len + 4] != USBPRO_END) abort();
        const uint8_t *payload = w.out + at + 4;
        if (w.out[at + 1] == USBPRO_LABEL_RECEIVED_DMX && len > 2 && payload[1] == RDM_START_CODE) {
            rdm_packet p;
            if (rdm_parse(payload + 1, len - 1, &p) != RDM_OK) abort(); /* no corrupt fault here */
        }
        at += len + 5;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char error[100];
    usbpro_widget_init(&w, 4, 7, 1);
    if (usbpro_widget_apply_fault(&w, "ack-timer:1", error, sizeof error) ||
        usbpro_widget_apply_fault(&w, "ack-overflow:2", error, sizeof error) ||
        usbpro_widget_apply_fault(&w, "collide:3", error, sizeof error))
        abort();
    static const uint16_t pids[] = {
        RDM_PID_DISC_UNIQUE_BRANCH, RDM_PID_DISC_MUTE, RDM_PID_DISC_UN_MUTE, RDM_PID_QUEUED_MESSAGE,
        RDM_PID_STATUS_MESSAGES, RDM_PID_SUPPORTED_PARAMETERS, RDM_PID_DEVICE_INFO,
        RDM_PID_DEVICE_MODEL_DESCRIPTION, RDM_PID_MANUFACTURER_LABEL, RDM_PID_DEVICE_LABEL,
        RDM_PID_SOFTWARE_VERSION_LABEL, RDM_PID_DMX_PERSONALITY, RDM_PID_DMX_PERSONALITY_DESCRIPTION,
        RDM_PID_DMX_START_ADDRESS, RDM_PID_SENSOR_DEFINITION, RDM_PID_SENSOR_VALUE,
        RDM_PID_DEVICE_HOURS, RDM_PID_LAMP_HOURS, RDM_PID_LAMP_STRIKES, RDM_PID_LAMP_STATE,
        RDM_PID_DEVICE_POWER_CYCLES, RDM_PID_IDENTIFY_DEVICE, RDM_PID_RESET_DEVICE,
        RDM_PID_PERFORM_SELFTEST, RDM_PID_SELF_TEST_DESCRIPTION, 0x7777};
    uint32_t now = 0;
    size_t i = 0;
    static uint8_t frame[700], rdm[RDM_MAX_FRAME];
    while (i + 5 <= size) {
        uint8_t choice = data[i], target = data[i + 1], cc = data[i + 2], pid = data[i + 3];
        uint8_t pdl = data[i + 4] % (RDM_MAX_PDL + 1);
        i += 5;
        if (pdl > size - i) pdl = (uint8_t)(size - i);
        w.out_length = 0;
        now += 37u * choice;
        if (choice % 8 == 0) {
            /* raw bytes straight into the framing parser */
            usbpro_widget_feed(&w, data + i, pdl, now);
        } else {
            rdm_packet q;
            memset(&q, 0, sizeof q);
            q.destination = target % 4 == 0 ? (rdm_uid){0xFFFF, 0xFFFFFFFFu}
                                            : w.responders[target % w.responder_count].uid;
            q.source.manufacturer = 0x7A70;
            q.source.device = 1;
            q.transaction = target;
            q.port_or_response = 1;
            q.sub_device = choice % 16 == 1 ? 0xFFFF : (choice % 16 == 2 ? 1 : 0);
            static const uint8_t classes[] = {RDM_DISCOVERY_COMMAND, RDM_GET_COMMAND, RDM_SET_COMMAND, 0x40};
            q.command_class = classes[cc % 4];
            q.pid = pids[pid % (sizeof pids / sizeof pids[0])];
            q.pdl = pdl;
            memcpy(q.data, data + i, pdl);
            size_t n;
            if (rdm_serialize(&q, rdm, sizeof rdm, &n) != RDM_OK) abort();
            if (choice % 8 == 7 && n > 0) rdm[(size_t)target % n] ^= cc; /* damage it */
            uint8_t label = q.pid == RDM_PID_DISC_UNIQUE_BRANCH ? USBPRO_LABEL_SEND_RDM_DISCOVERY
                                                                : USBPRO_LABEL_SEND_RDM;
            size_t fn = usbpro_encode(label, rdm, (uint16_t)n, frame, sizeof frame);
            usbpro_widget_feed(&w, frame, fn, now);
        }
        i += pdl;
        check_output();
    }
    return 0;
}
