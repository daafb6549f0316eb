/* Protocol engine: every command of section 4, its range checks and error statuses, the
 * retry cache, BUSY, reboot, events. */
#include "../core/bytes.h"
#include "../core/device.h"
#include "check.h"
#include "harness.h"
#include <string.h>

static harness h;

/* Status of a call, or -1 when no answer came. */
static int status_of(uint8_t command, const void *payload, size_t length)
{
    static uint16_t id = 100;
    const captured_frame *c = harness_call(&h, ++id, command, payload, length);
    return c ? c->frame.status : -1;
}

TEST(hello_negotiates_version_1)
{
    harness_start(&h, NULL, 1, NULL);
    const uint8_t rq[] = {1, 3};
    const captured_frame *c = harness_call(&h, 1, LS_CMD_HELLO, rq, 2);
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ(c->frame.flags, LS_FLAG_RESPONSE);
        CHECK_EQ(c->frame.status, LS_ST_OK);
        CHECK_EQ(c->frame.length, 7);
        CHECK_EQ(c->payload[0], 1);
        CHECK_EQ(ls_get_u16(c->payload + 1), 1024);
        CHECK_EQ(ls_get_u32(c->payload + 3), 7);
    }
    const uint8_t v2[] = {2, 5};
    c = harness_call(&h, 2, LS_CMD_HELLO, v2, 2);
    CHECK(c && c->frame.status == LS_ST_UNSUPPORTED_VERSION && c->frame.length == 2 &&
          c->payload[0] == 1 && c->payload[1] == 1);
    const uint8_t backwards[] = {3, 1};
    CHECK_EQ(status_of(LS_CMD_HELLO, backwards, 2), LS_ST_BAD_ARGUMENT);
    harness_stop(&h);
}

TEST(frame_of_other_version_answered_unsupported)
{
    harness_start(&h, NULL, 1, NULL);
    harness_clear(&h);
    uint8_t wire[32];
    ls_frame f = {2, 0, 77, LS_CMD_IDENTIFY, 0, 0, NULL};
    size_t n = ls_frame_encode(&f, wire, sizeof wire);
    ls_engine_receive(h.engine, wire, n, h.now_ms);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    CHECK_EQ(h.frames[0].frame.version, 1);
    CHECK_EQ(h.frames[0].frame.request_id, 77);
    CHECK_EQ(h.frames[0].frame.status, LS_ST_UNSUPPORTED_VERSION);
    CHECK_EQ(h.frames[0].frame.length, 2);
    harness_stop(&h);
}

TEST(identify_reports_model_serial_and_layout)
{
    ls_geometry g = {4, 1, 3, 2, 32, 16};
    harness_start(&h, &g, 7, NULL);
    const captured_frame *c = harness_call(&h, 1, LS_CMD_IDENTIFY, NULL, 0);
    CHECK(c && c->frame.status == LS_ST_OK);
    if (!c) return harness_stop(&h);
    const uint8_t *p = c->payload;
    const char *strings[4] = {"LS-SC400", ls_device_serial(ls_engine_device(h.engine)), "1.4.2", "C"};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(p[0], strlen(strings[i]));
        CHECK(memcmp(p + 1, strings[i], p[0]) == 0);
        p += 1 + p[0];
    }
    CHECK_EQ(ls_get_u16(p), 4);
    CHECK_EQ(ls_get_u16(p + 2), 1);
    CHECK_EQ(p[4], 3);
    CHECK_EQ(p[5], 2);
    CHECK_EQ(ls_get_u16(p + 6), 32);
    CHECK_EQ(ls_get_u16(p + 8), 16);
    CHECK_EQ(p + 10 - c->payload, c->frame.length);
    CHECK_EQ(status_of(LS_CMD_IDENTIFY, "x", 1), LS_ST_BAD_LENGTH);
    harness_stop(&h);
}

TEST(cabinet_info_and_not_found)
{
    const char *faults[] = {"cabinet-offline cabinet=3", NULL};
    harness_start(&h, NULL, 1, faults);
    uint8_t rq[2];
    ls_put_u16(rq, 1);
    const captured_frame *c = harness_call(&h, 1, LS_CMD_CABINET_INFO, rq, 2);
    CHECK(c && c->frame.status == LS_ST_OK);
    if (c) {
        const ls_device *d = ls_engine_device(h.engine);
        const uint8_t *p = c->payload;
        CHECK_EQ(ls_get_u16(p), 1);
        p += 2;
        CHECK_EQ(p[0], strlen(ls_device_cabinet_serial(d, 1)));
        CHECK(memcmp(p + 1, ls_device_cabinet_serial(d, 1), p[0]) == 0);
        p += 1 + p[0];
        CHECK(p[0] == 5 && memcmp(p + 1, "2.1.0", 5) == 0);
        p += 1 + p[0];
        CHECK(p[0] == 1 && p[1] == 'B');
        p += 2;
        CHECK_EQ(ls_get_u32(p), ls_device_cabinet_calibration_checksum(d, 1));
        CHECK_EQ(p + 4 - c->payload, c->frame.length);
    }
    ls_put_u16(rq, 4);
    CHECK_EQ(status_of(LS_CMD_CABINET_INFO, rq, 2), LS_ST_NOT_FOUND);
    ls_put_u16(rq, 3);
    CHECK_EQ(status_of(LS_CMD_CABINET_INFO, rq, 2), LS_ST_HARDWARE_FAULT);
    CHECK_EQ(status_of(LS_CMD_CABINET_INFO, rq, 1), LS_ST_BAD_LENGTH);
    harness_stop(&h);
}

TEST(parameters_get_set_and_ranges)
{
    harness_start(&h, NULL, 1, NULL);
    static const struct {
        uint8_t id;
        int32_t fallback, min, max;
    } table[] = {{1, 80, 0, 100}, {2, 220, 100, 400}, {3, 3840, 60, 7680},
                 {4, 16, 1, 32},  {5, 6500, 2000, 10000}, {6, 0, 0, 4}};
    for (size_t i = 0; i < 6; i++) {
        uint8_t rq[5] = {table[i].id};
        const captured_frame *c = harness_call(&h, (uint16_t)(10 + i), LS_CMD_GET_PARAM, rq, 1);
        CHECK(c && c->frame.status == LS_ST_OK && c->frame.length == 13);
        if (!c) continue;
        CHECK_EQ(c->payload[0], table[i].id);
        CHECK_EQ((int32_t)ls_get_u32(c->payload + 1), table[i].fallback);
        CHECK_EQ((int32_t)ls_get_u32(c->payload + 5), table[i].min);
        CHECK_EQ((int32_t)ls_get_u32(c->payload + 9), table[i].max);
        /* both ends of the range are accepted, one beyond either end is not */
        int32_t edges[2] = {table[i].min, table[i].max};
        for (int e = 0; e < 2; e++) {
            ls_put_u32(rq + 1, (uint32_t)edges[e]);
            c = harness_call(&h, (uint16_t)(20 + i * 4 + e), LS_CMD_SET_PARAM, rq, 5);
            CHECK(c && c->frame.status == LS_ST_OK && c->frame.length == 5 &&
                  (int32_t)ls_get_u32(c->payload + 1) == edges[e]);
            ls_put_u32(rq + 1, (uint32_t)(edges[e] + (e ? 1 : -1)));
            c = harness_call(&h, (uint16_t)(22 + i * 4 + e), LS_CMD_SET_PARAM, rq, 5);
            CHECK(c && c->frame.status == LS_ST_OUT_OF_RANGE && c->frame.length == 9);
            if (c) {
                CHECK_EQ(c->payload[0], table[i].id);
                CHECK_EQ((int32_t)ls_get_u32(c->payload + 1), table[i].min);
                CHECK_EQ((int32_t)ls_get_u32(c->payload + 5), table[i].max);
            }
        }
        CHECK_EQ(ls_device_param(ls_engine_device(h.engine), table[i].id), table[i].max);
    }
    uint8_t scan[5] = {LS_PARAM_SCAN_MODE};
    ls_put_u32(scan + 1, 12); /* inside 1..32 but not a power of two */
    CHECK_EQ(status_of(LS_CMD_SET_PARAM, scan, 5), LS_ST_OUT_OF_RANGE);
    ls_put_u32(scan + 1, 8);
    CHECK_EQ(status_of(LS_CMD_SET_PARAM, scan, 5), LS_ST_OK);
    uint8_t negative[5] = {LS_PARAM_BRIGHTNESS, 0xFF, 0xFF, 0xFF, 0xFF};
    CHECK_EQ(status_of(LS_CMD_SET_PARAM, negative, 5), LS_ST_OUT_OF_RANGE);
    uint8_t unknown[5] = {0};
    CHECK_EQ(status_of(LS_CMD_GET_PARAM, unknown, 1), LS_ST_UNKNOWN_PARAMETER);
    unknown[0] = 7;
    CHECK_EQ(status_of(LS_CMD_SET_PARAM, unknown, 5), LS_ST_UNKNOWN_PARAMETER);
    CHECK_EQ(status_of(LS_CMD_SET_PARAM, unknown, 4), LS_ST_BAD_LENGTH);
    CHECK_EQ(status_of(LS_CMD_GET_PARAM, NULL, 0), LS_ST_BAD_LENGTH);
    harness_stop(&h);
}

TEST(show_pattern_every_pattern)
{
    harness_start(&h, NULL, 1, NULL);
    static const struct {
        uint8_t pattern;
        uint16_t argument, effective;
        int status;
    } cases[] = {{0, 0, 0, LS_ST_OK},     {1, 0, 0, LS_ST_OK},        {2, 0, 0, LS_ST_OK},
                 {3, 0, 0, LS_ST_OK},     {4, 0, 0, LS_ST_OK},        {5, 0, 0, LS_ST_OK},
                 {6, 0, 8, LS_ST_OK},     {6, 16, 16, LS_ST_OK},      {7, 0, 1, LS_ST_OK},
                 {7, 4, 4, LS_ST_OK},     {8, 0, 0, LS_ST_OK},        {8, 32767, 32767, LS_ST_OK},
                 {255, 0, 0, LS_ST_OK},   {8, 32768, 0, LS_ST_BAD_ARGUMENT},
                 {9, 0, 0, LS_ST_BAD_ARGUMENT}, {1, 5, 0, LS_ST_BAD_ARGUMENT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t rq[3] = {cases[i].pattern};
        ls_put_u16(rq + 1, cases[i].argument);
        const captured_frame *c = harness_call(&h, (uint16_t)(1 + i), LS_CMD_SHOW_PATTERN, rq, 3);
        CHECK(c != NULL);
        if (!c) continue;
        CHECK_EQ(c->frame.status, cases[i].status);
        if (cases[i].status == LS_ST_OK) {
            CHECK_EQ(c->frame.length, 3);
            CHECK_EQ(c->payload[0], cases[i].pattern);
            CHECK_EQ(ls_get_u16(c->payload + 1), cases[i].effective);
            uint16_t argument;
            CHECK_EQ(ls_device_pattern(ls_engine_device(h.engine), &argument), cases[i].pattern);
            CHECK_EQ(argument, cases[i].effective);
        } else {
            CHECK_EQ(c->frame.length, 0);
        }
    }
    harness_stop(&h);
}

TEST(module_test_all_pass_and_busy)
{
    harness_start(&h, NULL, 1, NULL);
    uint8_t rq[2] = {1, 0};
    harness_clear(&h);
    harness_send(&h, 0, 50, LS_CMD_MODULE_TEST, rq, 2, NULL);
    /* while the test runs, other requests are BUSY and a retry of it gets no second answer */
    const uint8_t hello[] = {1, 1};
    harness_send(&h, 0, 51, LS_CMD_HELLO, hello, 2, NULL);
    harness_send(&h, LS_FLAG_RETRY, 50, LS_CMD_MODULE_TEST, rq, 2, NULL);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    CHECK(h.frame_count == 1 && h.frames[0].frame.request_id == 51 &&
          h.frames[0].frame.status == LS_ST_BUSY);
    harness_wait(&h, 2000);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 2);
    const captured_frame *c = &h.frames[1];
    CHECK_EQ(c->frame.request_id, 50);
    CHECK_EQ(c->frame.status, LS_ST_OK);
    CHECK_EQ(c->frame.length, 3 + 4 * 6);
    CHECK_EQ(ls_get_u16(c->payload), 1);
    CHECK_EQ(c->payload[2], 4);
    for (int m = 0; m < 4; m++) {
        const uint8_t *r = c->payload + 3 + 6 * m;
        CHECK_EQ(r[0], m);
        CHECK_EQ(r[1], LS_MT_PASS);
        CHECK(ls_get_u16(r + 2) >= 4500 && ls_get_u16(r + 2) <= 5500);
        CHECK_EQ(r[4], 12); /* 64 columns: 4 groups of 16, times 3 channels */
        CHECK_EQ(r[5], 12);
    }
    ls_put_u16(rq, 9);
    CHECK_EQ(status_of(LS_CMD_MODULE_TEST, rq, 2), LS_ST_NOT_FOUND);
    harness_stop(&h);
}

TEST(led_status_chunks_cover_the_cabinet)
{
    const char *faults[] = {"dead-led cabinet=2 x=127 y=63 channel=blue", NULL};
    harness_start(&h, NULL, 1, faults);
    uint8_t rq[8];
    uint32_t offset = 0, total = 0, chunks = 0, found = 0;
    do {
        ls_put_u16(rq, 2);
        ls_put_u32(rq + 2, offset);
        ls_put_u16(rq + 6, 1000);
        const captured_frame *c = harness_call(&h, (uint16_t)(1 + chunks), LS_CMD_READ_LED_STATUS, rq, 8);
        CHECK(c && c->frame.status == LS_ST_OK);
        if (!c) break;
        total = ls_get_u32(c->payload + 2);
        CHECK_EQ(ls_get_u32(c->payload + 6), offset);
        uint32_t n = c->frame.length - 10u;
        for (uint32_t i = 0; i < n; i++)
            if (c->payload[10 + i]) {
                CHECK_EQ(offset + i, 63u * 128u + 127u);
                CHECK_EQ(c->payload[10 + i], LS_CH_OPEN << 4);
                found++;
            }
        offset += n;
        chunks++;
    } while (offset < total && chunks < 100);
    CHECK_EQ(total, 128u * 64u);
    CHECK_EQ(offset, total);
    CHECK_EQ(chunks, 9); /* 8192 / 1000 rounded up */
    CHECK_EQ(found, 1);
    /* max_bytes over the payload room is capped at 1014; offset == total gives no data */
    ls_put_u32(rq + 2, 0);
    ls_put_u16(rq + 6, 1024);
    const captured_frame *c = harness_call(&h, 200, LS_CMD_READ_LED_STATUS, rq, 8);
    CHECK(c && c->frame.length == 1024);
    ls_put_u32(rq + 2, total);
    c = harness_call(&h, 201, LS_CMD_READ_LED_STATUS, rq, 8);
    CHECK(c && c->frame.status == LS_ST_OK && c->frame.length == 10);
    ls_put_u32(rq + 2, total + 1);
    CHECK_EQ(status_of(LS_CMD_READ_LED_STATUS, rq, 8), LS_ST_BAD_ARGUMENT);
    ls_put_u32(rq + 2, 0);
    ls_put_u16(rq + 6, 0);
    CHECK_EQ(status_of(LS_CMD_READ_LED_STATUS, rq, 8), LS_ST_BAD_ARGUMENT);
    ls_put_u16(rq + 6, 1025);
    CHECK_EQ(status_of(LS_CMD_READ_LED_STATUS, rq, 8), LS_ST_BAD_ARGUMENT);
    ls_put_u16(rq, 4);
    ls_put_u16(rq + 6, 10);
    CHECK_EQ(status_of(LS_CMD_READ_LED_STATUS, rq, 8), LS_ST_NOT_FOUND);
    CHECK_EQ(status_of(LS_CMD_READ_LED_STATUS, rq, 7), LS_ST_BAD_LENGTH);
    harness_stop(&h);
}

TEST(telemetry_fields)
{
    harness_start(&h, NULL, 1, NULL);
    uint8_t rq[2] = {0, 0};
    const captured_frame *c = harness_call(&h, 1, LS_CMD_READ_TELEMETRY, rq, 2);
    CHECK(c && c->frame.status == LS_ST_OK && c->frame.length == 16);
    if (c) {
        ls_telemetry t = ls_device_telemetry(ls_engine_device(h.engine), 0);
        CHECK_EQ(ls_get_u16(c->payload), 0);
        CHECK_EQ((int16_t)ls_get_u16(c->payload + 2), t.temperature_decicelsius);
        CHECK(t.temperature_decicelsius >= 300 && t.temperature_decicelsius <= 400);
        CHECK_EQ(ls_get_u16(c->payload + 4), t.supply_millivolts);
        CHECK(t.supply_millivolts >= 4950 && t.supply_millivolts <= 5050);
        CHECK_EQ(ls_get_u16(c->payload + 6), t.fan_rpm);
        CHECK(t.fan_rpm >= 2000);
        CHECK_EQ(ls_get_u32(c->payload + 8), t.runtime_hours);
        CHECK_EQ(ls_get_u32(c->payload + 12), t.power_cycles);
    }
    /* runtime hours count emulated time */
    uint32_t hours = ls_device_telemetry(ls_engine_device(h.engine), 0).runtime_hours;
    ls_engine_tick(h.engine, 3600u * 1000u);
    CHECK_EQ(ls_device_telemetry(ls_engine_device(h.engine), 0).runtime_hours, hours + 1);
    h.now_ms = 3600u * 1000u;
    rq[0] = 4;
    CHECK_EQ(status_of(LS_CMD_READ_TELEMETRY, rq, 2), LS_ST_NOT_FOUND);
    harness_stop(&h);
}

TEST(events_read_clear_and_sequence)
{
    harness_start(&h, NULL, 1, NULL);
    /* boot logged power loss: sequence 1 */
    uint8_t rq[5] = {0};
    rq[4] = 10;
    const captured_frame *c = harness_call(&h, 1, LS_CMD_READ_EVENTS, rq, 5);
    CHECK(c && c->frame.status == LS_ST_OK && c->frame.length == 3 + 14);
    if (c) {
        CHECK_EQ(ls_get_u16(c->payload), 1);
        CHECK_EQ(c->payload[2], 1);
        CHECK_EQ(ls_get_u32(c->payload + 3), 1);
        CHECK_EQ(c->payload[3 + 8], LS_EV_POWER_LOSS);
        CHECK_EQ(ls_get_u16(c->payload + 3 + 10), 0xFFFF);
    }
    for (int i = 0; i < 70; i++) ls_device_log(ls_engine_device(h.engine), LS_EV_LINK_ERROR, 0xFFFF, (int16_t)i);
    harness_wait(&h, 5); /* 70 EVENT frames go out */
    harness_clear(&h);
    /* first_sequence filters, max_count caps */
    ls_put_u32(rq, 60);
    rq[4] = 64;
    c = harness_call(&h, 2, LS_CMD_READ_EVENTS, rq, 5);
    CHECK(c && c->payload[2] == 12 && ls_get_u32(c->payload + 3) == 60 &&
          ls_get_u16(c->payload) == 71);
    ls_put_u32(rq, 0);
    c = harness_call(&h, 3, LS_CMD_READ_EVENTS, rq, 5);
    CHECK(c && c->frame.length == 3 + 64 * 14);
    rq[4] = 0;
    CHECK_EQ(status_of(LS_CMD_READ_EVENTS, rq, 5), LS_ST_BAD_ARGUMENT);
    rq[4] = 65;
    CHECK_EQ(status_of(LS_CMD_READ_EVENTS, rq, 5), LS_ST_BAD_ARGUMENT);
    c = harness_call(&h, 4, LS_CMD_CLEAR_EVENTS, NULL, 0);
    CHECK(c && c->frame.status == LS_ST_OK && c->frame.length == 2 && ls_get_u16(c->payload) == 71);
    CHECK_EQ(ls_device_event_count(ls_engine_device(h.engine)), 0);
    /* sequence numbers do not restart after a clear */
    ls_device_log(ls_engine_device(h.engine), LS_EV_LINK_ERROR, 0xFFFF, 1);
    CHECK_EQ(ls_device_event_at(ls_engine_device(h.engine), 0).sequence, 72);
    CHECK_EQ(status_of(LS_CMD_CLEAR_EVENTS, rq, 1), LS_ST_BAD_LENGTH);
    harness_stop(&h);
}

TEST(event_log_keeps_newest_128)
{
    harness_start(&h, NULL, 1, NULL);
    ls_device *d = ls_engine_device(h.engine);
    for (int i = 0; i < 200; i++) ls_device_log(d, LS_EV_LINK_ERROR, 0xFFFF, (int16_t)i);
    CHECK_EQ(ls_device_event_count(d), LS_EVENT_LOG_SIZE);
    CHECK_EQ(ls_device_event_at(d, 0).sequence, 201 - LS_EVENT_LOG_SIZE + 1);
    CHECK_EQ(ls_device_event_at(d, LS_EVENT_LOG_SIZE - 1).sequence, 201);
    harness_stop(&h);
}

TEST(unknown_command_and_bad_length)
{
    harness_start(&h, NULL, 1, NULL);
    CHECK_EQ(status_of(0x42, NULL, 0), LS_ST_UNKNOWN_COMMAND);
    CHECK_EQ(status_of(0x00, NULL, 0), LS_ST_UNKNOWN_COMMAND);
    CHECK_EQ(status_of(LS_CMD_EVENT, NULL, 0), LS_ST_UNKNOWN_COMMAND);
    uint8_t big[LS_MAX_PAYLOAD] = {0};
    CHECK_EQ(status_of(LS_CMD_HELLO, big, sizeof big), LS_ST_BAD_LENGTH);
    CHECK_EQ(status_of(LS_CMD_REBOOT, big, 1), LS_ST_BAD_LENGTH);
    harness_stop(&h);
}

TEST(frames_from_a_device_are_ignored)
{
    harness_start(&h, NULL, 1, NULL);
    harness_clear(&h);
    const uint8_t hello[] = {1, 1};
    harness_send(&h, LS_FLAG_RESPONSE, 5, LS_CMD_HELLO, hello, 2, NULL);
    harness_send(&h, LS_FLAG_RESPONSE | LS_FLAG_EVENT, 0, LS_CMD_EVENT, hello, 2, NULL);
    harness_wait(&h, 10);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 0);
    CHECK_EQ(ls_engine_statistics(h.engine).ignored, 2);
    harness_stop(&h);
}

TEST(retried_set_param_executes_once)
{
    harness_start(&h, NULL, 1, NULL);
    ls_device *d = ls_engine_device(h.engine);
    uint8_t rq[5] = {LS_PARAM_BRIGHTNESS};
    ls_put_u32(rq + 1, 30);
    const captured_frame *first = harness_call(&h, 500, LS_CMD_SET_PARAM, rq, 5);
    CHECK(first && first->frame.status == LS_ST_OK);
    uint8_t first_raw[LS_MAX_FRAME];
    size_t first_size = first ? first->raw_size : 0;
    if (first) memcpy(first_raw, first->raw, first_size);
    uint32_t executed = ls_engine_statistics(h.engine).requests;
    /* someone else changes brightness; a retry of request 500 must not set 30 again */
    CHECK_EQ(ls_device_set_param(d, LS_PARAM_BRIGHTNESS, 55), LS_ST_OK);
    harness_clear(&h);
    harness_send(&h, LS_FLAG_RETRY, 500, LS_CMD_SET_PARAM, rq, 5, NULL);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    CHECK(h.frame_count == 1 && h.frames[0].raw_size == first_size &&
          memcmp(h.frames[0].raw, first_raw, first_size) == 0);
    CHECK_EQ(ls_device_param(d, LS_PARAM_BRIGHTNESS), 55);
    CHECK_EQ(ls_engine_statistics(h.engine).requests, executed);
    CHECK_EQ(ls_engine_statistics(h.engine).retries_answered, 1);
    /* a retry the device does not remember (other id) is executed */
    harness_clear(&h);
    harness_send(&h, LS_FLAG_RETRY, 501, LS_CMD_SET_PARAM, rq, 5, NULL);
    CHECK_EQ(ls_device_param(d, LS_PARAM_BRIGHTNESS), 30);
    /* same id without RETRY is a new request and always executes */
    ls_device_set_param(d, LS_PARAM_BRIGHTNESS, 55);
    harness_send(&h, 0, 500, LS_CMD_SET_PARAM, rq, 5, NULL);
    CHECK_EQ(ls_device_param(d, LS_PARAM_BRIGHTNESS), 30);
    /* same id, other command: not a match */
    ls_device_set_param(d, LS_PARAM_BRIGHTNESS, 55);
    harness_clear(&h);
    harness_send(&h, LS_FLAG_RETRY, 500, LS_CMD_GET_PARAM, rq, 1, NULL);
    harness_collect(&h);
    CHECK(h.frame_count == 1 && h.frames[0].frame.command == LS_CMD_GET_PARAM &&
          ls_get_u32(h.frames[0].payload + 1) == 55);
    harness_stop(&h);
}

/* A new session's HELLO forgets the last session's answers: a RETRY of request 1 in the
 * new session whose first attempt was lost is executed, not answered with the old answer. */
TEST(hello_forgets_previous_session)
{
    harness_start(&h, NULL, 1, NULL);
    ls_device *d = ls_engine_device(h.engine);
    uint8_t rq[5] = {LS_PARAM_BRIGHTNESS};
    ls_put_u32(rq + 1, 30);
    const captured_frame *old = harness_call(&h, 2, LS_CMD_SET_PARAM, rq, 5);
    CHECK(old && old->frame.status == LS_ST_OK);
    /* new session: HELLO as request 1, then request 2's first attempt is lost */
    const uint8_t hello[2] = {1, 1};
    const captured_frame *greeting = harness_call(&h, 1, LS_CMD_HELLO, hello, 2);
    CHECK(greeting && greeting->frame.status == LS_ST_OK);
    ls_put_u32(rq + 1, 70);
    harness_clear(&h);
    harness_send(&h, LS_FLAG_RETRY, 2, LS_CMD_SET_PARAM, rq, 5, NULL);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    CHECK(h.frame_count == 1 && ls_get_u32(h.frames[0].payload + 1) == 70);
    CHECK_EQ(ls_device_param(d, LS_PARAM_BRIGHTNESS), 70);
    /* a retried HELLO is still answered from memory */
    harness_clear(&h);
    harness_send(&h, LS_FLAG_RETRY, 1, LS_CMD_HELLO, hello, 2, NULL);
    harness_collect(&h);
    CHECK(h.frame_count == 1 && h.frames[0].frame.command == LS_CMD_HELLO);
    harness_stop(&h);
}

TEST(retry_cache_holds_last_8)
{
    harness_start(&h, NULL, 1, NULL);
    ls_device *d = ls_engine_device(h.engine);
    uint8_t rq[5] = {LS_PARAM_GAMMA};
    for (uint16_t id = 1; id <= 9; id++) {
        ls_put_u32(rq + 1, 200u + id);
        harness_call(&h, id, LS_CMD_SET_PARAM, rq, 5);
    }
    ls_device_set_param(d, LS_PARAM_GAMMA, 100);
    ls_put_u32(rq + 1, 202);
    harness_send(&h, LS_FLAG_RETRY, 2, LS_CMD_SET_PARAM, rq, 5, NULL); /* remembered */
    CHECK_EQ(ls_device_param(d, LS_PARAM_GAMMA), 100);
    ls_put_u32(rq + 1, 201);
    harness_send(&h, LS_FLAG_RETRY, 1, LS_CMD_SET_PARAM, rq, 5, NULL); /* 9th oldest: forgotten */
    CHECK_EQ(ls_device_param(d, LS_PARAM_GAMMA), 201);
    harness_stop(&h);
}

/* Section 3's order: the frame version is checked first, so a frame of another version is
 * UNSUPPORTED_VERSION even with RETRY and the id and command of a remembered request (it is
 * not a re-send of that request); a RETRY that is remembered is answered from memory even
 * while a module test runs (it already ran: BUSY would make the host send it anew). */
TEST(retry_cache_after_version_before_busy)
{
    harness_start(&h, NULL, 1, NULL);
    ls_device *d = ls_engine_device(h.engine);
    uint8_t rq[5] = {LS_PARAM_BRIGHTNESS};
    ls_put_u32(rq + 1, 30);
    const captured_frame *first = harness_call(&h, 600, LS_CMD_SET_PARAM, rq, 5);
    CHECK(first && first->frame.status == LS_ST_OK);

    uint8_t wire[LS_MAX_FRAME];
    ls_frame v2 = {2, LS_FLAG_RETRY, 600, LS_CMD_SET_PARAM, 0, 5, rq};
    size_t n = ls_frame_encode(&v2, wire, sizeof wire);
    harness_clear(&h);
    ls_engine_receive(h.engine, wire, n, h.now_ms);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    CHECK(h.frame_count == 1 && h.frames[0].frame.request_id == 600 &&
          h.frames[0].frame.status == LS_ST_UNSUPPORTED_VERSION && h.frames[0].frame.length == 2);

    ls_device_set_param(d, LS_PARAM_BRIGHTNESS, 55);
    const uint8_t cabinet0[2] = {0, 0};
    harness_clear(&h);
    harness_send(&h, 0, 601, LS_CMD_MODULE_TEST, cabinet0, 2, NULL);
    harness_send(&h, LS_FLAG_RETRY, 600, LS_CMD_SET_PARAM, rq, 5, NULL);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    CHECK(h.frame_count == 1 && h.frames[0].frame.request_id == 600 &&
          h.frames[0].frame.status == LS_ST_OK && ls_get_u32(h.frames[0].payload + 1) == 30);
    CHECK_EQ(ls_device_param(d, LS_PARAM_BRIGHTNESS), 55);
    harness_stop(&h);
}

TEST(reboot_answers_then_goes_silent_and_logs_power_loss)
{
    harness_start(&h, NULL, 1, NULL);
    ls_device *d = ls_engine_device(h.engine);
    uint32_t cycles = ls_device_telemetry(d, 0).power_cycles;
    uint8_t pattern[3] = {LS_PATTERN_WHITE, 0, 0};
    harness_call(&h, 1, LS_CMD_SHOW_PATTERN, pattern, 3);
    const captured_frame *c = harness_call(&h, 2, LS_CMD_REBOOT, NULL, 0);
    CHECK(c && c->frame.status == LS_ST_OK && c->frame.length == 0);
    /* silent while restarting */
    harness_clear(&h);
    const uint8_t hello[] = {1, 1};
    harness_send(&h, 0, 3, LS_CMD_HELLO, hello, 2, NULL);
    harness_wait(&h, 100);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 0);
    harness_wait(&h, 1000);
    harness_collect(&h);
    /* back: the power-loss event goes out as an EVENT frame */
    CHECK_EQ(h.frame_count, 1);
    if (h.frame_count == 1) {
        CHECK_EQ(h.frames[0].frame.flags, LS_FLAG_RESPONSE | LS_FLAG_EVENT);
        CHECK_EQ(h.frames[0].frame.request_id, 0);
        CHECK_EQ(h.frames[0].frame.command, LS_CMD_EVENT);
        CHECK_EQ(h.frames[0].payload[8], LS_EV_POWER_LOSS);
        CHECK_EQ(ls_get_u32(h.frames[0].payload), 2);
    }
    CHECK_EQ(ls_device_telemetry(d, 0).power_cycles, cycles + 1);
    CHECK_EQ(ls_device_pattern(d, NULL), LS_PATTERN_VIDEO);
    CHECK_EQ(ls_device_uptime_seconds(d), 0);
    /* a retried REBOOT (its answer was lost) is answered from the cache: no second reboot */
    harness_clear(&h);
    harness_send(&h, LS_FLAG_RETRY, 2, LS_CMD_REBOOT, NULL, 0, NULL);
    harness_wait(&h, 1000);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    CHECK_EQ(ls_device_telemetry(d, 0).power_cycles, cycles + 1);
    harness_stop(&h);
}

TEST(link_errors_are_logged)
{
    harness_start(&h, NULL, 1, NULL);
    uint8_t wire[32];
    const uint8_t hello[] = {1, 1};
    ls_frame f = {1, 0, 9, LS_CMD_HELLO, 0, 2, hello};
    size_t n = ls_frame_encode(&f, wire, sizeof wire);
    wire[n - 1] ^= 1; /* bad CRC */
    for (int i = 0; i < 3; i++) ls_engine_receive(h.engine, wire, n, h.now_ms);
    harness_clear(&h);
    harness_wait(&h, 1100);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    if (h.frame_count) {
        CHECK_EQ(h.frames[0].payload[8], LS_EV_LINK_ERROR);
        CHECK_EQ(ls_get_u16(h.frames[0].payload + 10), 0xFFFF);
        CHECK_EQ((int16_t)ls_get_u16(h.frames[0].payload + 12), 3);
    }
    harness_stop(&h);
}
