/* Tests for core/rdm: codec vectors, responder behaviour per E1.20, widget framing. */
#include "../../core/rdm/usbpro_widget.h"

#include <stdio.h>
#include <string.h>

static int failures, checks;
#define CHECK(cond)                                                          \
    do {                                                                     \
        checks++;                                                            \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)

/* OLA's RDMCommandTest vector: GET, dest 0003:00000004, src 0001:00000002, TN 0, port 1,
 * sub-device 10, PID 0x0128 (DMX_START_ADDRESS is 0x00F0; 0x0128 is just a number here). */
static const uint8_t ola_vector[] = {
    0xcc, 0x01, 0x18,                   /* start code, sub start code, message length 24 */
    0x00, 0x03, 0x00, 0x00, 0x00, 0x04, /* destination 0003:00000004 */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* source 0001:00000002 */
    0x00, 0x01, 0x00,                   /* transaction 0, port 1, message count 0 */
    0x00, 0x0a,                         /* sub-device 10 */
    0x20, 0x01, 0x28, 0x00,             /* GET, PID 0x0128, PDL 0 */
    0x01, 0x43,                         /* checksum */
};

static void test_codec(void)
{
    rdm_packet p;
    CHECK(rdm_parse(ola_vector, sizeof ola_vector, &p) == RDM_OK);
    CHECK(p.destination.manufacturer == 3 && p.destination.device == 4);
    CHECK(p.source.manufacturer == 1 && p.source.device == 2);
    CHECK(p.sub_device == 10 && p.command_class == RDM_GET_COMMAND && p.pid == 0x0128);
    uint8_t out[RDM_MAX_FRAME];
    size_t n = 0;
    CHECK(rdm_serialize(&p, out, sizeof out, &n) == RDM_OK);
    CHECK(n == sizeof ola_vector && memcmp(out, ola_vector, n) == 0);

    uint8_t bad[sizeof ola_vector];
    memcpy(bad, ola_vector, sizeof bad);
    bad[25] ^= 1; /* checksum */
    CHECK(rdm_parse(bad, sizeof bad, &p) == RDM_ERR_CHECKSUM);
    memcpy(bad, ola_vector, sizeof bad);
    bad[2] = 0x19; /* message length disagrees with PDL */
    CHECK(rdm_parse(bad, sizeof bad, &p) == RDM_ERR_LENGTH);
    bad[2] = 0x18;
    bad[1] = 0x02;
    CHECK(rdm_parse(bad, sizeof bad, &p) == RDM_ERR_START_CODE);
    for (size_t cut = 0; cut < sizeof ola_vector; cut++)
        CHECK(rdm_parse(ola_vector, cut, &p) != RDM_OK);
}

static void test_dub_encoding(void)
{
    rdm_uid uid = {0x7FF0, 0x12345678}, back;
    uint8_t e[RDM_DUB_RESPONSE_SIZE];
    rdm_encode_dub_response(uid, e);
    /* 7 x FE preamble, AA separator, then 7F|AA=FF 7F|55=7F, F0|AA=FA F0|55=F5 ... */
    CHECK(e[0] == 0xFE && e[6] == 0xFE && e[7] == 0xAA);
    CHECK(e[8] == 0xFF && e[9] == 0x7F && e[10] == 0xFA && e[11] == 0xF5);
    CHECK(rdm_decode_dub_response(e, sizeof e, &back) == RDM_OK && rdm_uid_equal(uid, back));
    CHECK(rdm_decode_dub_response(e + 7, sizeof e - 7, &back) == RDM_OK); /* no preamble */
    CHECK(rdm_decode_dub_response(e, 20, &back) == RDM_ERR_TRUNCATED);
    /* two replies OR-ed on the line: a collision must not decode */
    uint8_t f[RDM_DUB_RESPONSE_SIZE];
    rdm_uid other = {0x7FF0, 0x12345679};
    rdm_encode_dub_response(other, f);
    for (int i = 0; i < RDM_DUB_RESPONSE_SIZE; i++)
        f[i] |= e[i];
    CHECK(rdm_decode_dub_response(f, sizeof f, &back) == RDM_ERR_CHECKSUM);
}

static rdm_uid controller = {0x7A70, 1};

static rdm_reply_kind ask(rdm_responder *r, rdm_uid to, uint8_t cc, uint16_t pid, uint16_t sub,
                          const uint8_t *data, uint8_t pdl, uint32_t now, rdm_packet *reply)
{
    rdm_packet q;
    memset(&q, 0, sizeof q);
    q.destination = to;
    q.source = controller;
    q.transaction = 7;
    q.port_or_response = 1;
    q.sub_device = sub;
    q.command_class = cc;
    q.pid = pid;
    q.pdl = pdl;
    if (pdl)
        memcpy(q.data, data, pdl);
    uint8_t out[RDM_MAX_FRAME];
    size_t n = 0;
    rdm_reply_kind kind = rdm_responder_handle(r, &q, now, out, sizeof out, &n);
    if (kind == RDM_REPLY_FRAME) {
        CHECK(rdm_parse(out, n, reply) == RDM_OK);
        CHECK(reply->transaction == 7 && rdm_uid_equal(reply->destination, controller));
        CHECK(reply->command_class == cc + 1 && reply->sub_device == sub);
    }
    return kind;
}

static uint16_t nack_of(const rdm_packet *p)
{
    return p->port_or_response == RDM_NACK_REASON && p->pdl == 2 ? rdm_get16(p->data) : 0xFFFF;
}

static void test_responder_nacks(void)
{
    rdm_responder r;
    rdm_uid me = {0x7FF0, 0x00000042};
    rdm_responder_init(&r, me, &rdm_models[0], 5);
    rdm_packet p;
    uint8_t one = 1, big = 9, addr[2] = {0x01, 0x02}, zero_addr[2] = {0, 0};

    CHECK(ask(&r, me, RDM_GET_COMMAND, 0x7777, 0, NULL, 0, 0, &p) == RDM_REPLY_FRAME);
    CHECK(nack_of(&p) == RDM_NR_UNKNOWN_PID);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_DEVICE_INFO, 0, &one, 1, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_FORMAT_ERROR);
    ask(&r, me, RDM_SET_COMMAND, RDM_PID_DEVICE_INFO, 0, NULL, 0, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_UNSUPPORTED_COMMAND_CLASS);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_RESET_DEVICE, 0, NULL, 0, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_UNSUPPORTED_COMMAND_CLASS);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_DEVICE_INFO, 1, NULL, 0, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_SUB_DEVICE_OUT_OF_RANGE);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_DEVICE_INFO, 0xFFFF, NULL, 0, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_SUB_DEVICE_OUT_OF_RANGE);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_SENSOR_VALUE, 0, &big, 1, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_DATA_OUT_OF_RANGE);
    ask(&r, me, RDM_SET_COMMAND, RDM_PID_DMX_START_ADDRESS, 0, zero_addr, 2, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_DATA_OUT_OF_RANGE);
    ask(&r, me, RDM_SET_COMMAND, RDM_PID_DMX_START_ADDRESS, 0, addr, 1, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_FORMAT_ERROR);
    ask(&r, me, 0x40, RDM_PID_DEVICE_INFO, 0, NULL, 0, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_UNSUPPORTED_COMMAND_CLASS);

    /* a good SET, then a GET that reads it back */
    ask(&r, me, RDM_SET_COMMAND, RDM_PID_DMX_START_ADDRESS, 0, addr, 2, 0, &p);
    CHECK(p.port_or_response == RDM_ACK && p.pdl == 0);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_DMX_START_ADDRESS, 0, NULL, 0, 0, &p);
    CHECK(p.pdl == 2 && rdm_get16(p.data) == 0x0102);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_DEVICE_INFO, 0, NULL, 0, 0, &p);
    CHECK(p.pdl == 19 && rdm_get16(p.data) == 0x0100 && rdm_get16(p.data + 14) == 0x0102);
    CHECK(p.data[18] == 3);

    /* broadcasts act but never answer; SET to all sub-devices reaches the root */
    rdm_uid all = {0xFFFF, 0xFFFFFFFF}, ours = {0x7FF0, 0xFFFFFFFF}, theirs = {0x1234, 0xFFFFFFFF};
    CHECK(ask(&r, all, RDM_SET_COMMAND, RDM_PID_IDENTIFY_DEVICE, 0, &one, 1, 0, &p) == RDM_REPLY_NONE);
    CHECK(r.identify == 1);
    CHECK(ask(&r, theirs, RDM_SET_COMMAND, RDM_PID_IDENTIFY_DEVICE, 0, &big, 1, 0, &p) == RDM_REPLY_NONE);
    uint8_t off = 0;
    CHECK(ask(&r, ours, RDM_SET_COMMAND, RDM_PID_IDENTIFY_DEVICE, 0xFFFF, &off, 1, 0, &p) == RDM_REPLY_NONE);
    CHECK(r.identify == 0);
    rdm_uid someone_else = {0x7FF0, 0x43};
    CHECK(ask(&r, someone_else, RDM_GET_COMMAND, RDM_PID_DEVICE_INFO, 0, NULL, 0, 0, &p) == RDM_REPLY_NONE);
}

static void test_discovery_and_mute(void)
{
    rdm_responder r;
    rdm_uid me = {0x7FF0, 0x00000042}, all = {0xFFFF, 0xFFFFFFFF};
    rdm_responder_init(&r, me, &rdm_models[1], 9);
    uint8_t range[12] = {0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};
    rdm_packet q;
    memset(&q, 0, sizeof q);
    q.destination = all;
    q.source = controller;
    q.command_class = RDM_DISCOVERY_COMMAND;
    q.pid = RDM_PID_DISC_UNIQUE_BRANCH;
    q.pdl = 12;
    memcpy(q.data, range, 12);
    uint8_t out[RDM_MAX_FRAME];
    size_t n;
    rdm_uid back;
    CHECK(rdm_responder_handle(&r, &q, 0, out, sizeof out, &n) == RDM_REPLY_DUB);
    CHECK(n == 24 && rdm_decode_dub_response(out, n, &back) == RDM_OK && rdm_uid_equal(back, me));
    /* out of range: silent */
    uint8_t high[12] = {0x7F, 0xF0, 0, 0, 0, 0x43, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};
    memcpy(q.data, high, 12);
    CHECK(rdm_responder_handle(&r, &q, 0, out, sizeof out, &n) == RDM_REPLY_NONE);
    memcpy(q.data, range, 12);

    rdm_packet p;
    CHECK(ask(&r, me, RDM_DISCOVERY_COMMAND, RDM_PID_DISC_MUTE, 0, NULL, 0, 0, &p) == RDM_REPLY_FRAME);
    CHECK(p.port_or_response == RDM_ACK && p.pdl == 2 && r.muted);
    CHECK(rdm_responder_handle(&r, &q, 0, out, sizeof out, &n) == RDM_REPLY_NONE);
    CHECK(ask(&r, all, RDM_DISCOVERY_COMMAND, RDM_PID_DISC_UN_MUTE, 0, NULL, 0, 0, &p) == RDM_REPLY_NONE);
    CHECK(!r.muted);
    CHECK(rdm_responder_handle(&r, &q, 0, out, sizeof out, &n) == RDM_REPLY_DUB);
    /* a malformed mute (with data) is ignored */
    uint8_t junk = 1;
    CHECK(ask(&r, me, RDM_DISCOVERY_COMMAND, RDM_PID_DISC_MUTE, 0, &junk, 1, 0, &p) == RDM_REPLY_NONE);
}

static void test_ack_timer_and_overflow(void)
{
    rdm_responder r;
    rdm_uid me = {0x7FF0, 0x77};
    rdm_responder_init(&r, me, &rdm_models[0], 3);
    r.faults = RDM_FAULT_ACK_TIMER | RDM_FAULT_ACK_OVERFLOW | RDM_FAULT_OVERTEMP;
    rdm_packet p;
    uint8_t sensor = 0, error_level = RDM_STATUS_ERROR;
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_SENSOR_VALUE, 0, &sensor, 1, 1000, &p);
    CHECK(p.port_or_response == RDM_ACK_TIMER && p.pdl == 2 && rdm_get16(p.data) == 2);
    CHECK(p.message_count == 1);
    /* too early: the queue answers with status messages (the over-temperature error) */
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_QUEUED_MESSAGE, 0, &error_level, 1, 1100, &p);
    CHECK(p.pid == RDM_PID_STATUS_MESSAGES && p.pdl == 9 && rdm_get16(p.data + 3) == RDM_STS_OVERTEMP);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_QUEUED_MESSAGE, 0, &error_level, 1, 1200, &p);
    CHECK(p.pid == RDM_PID_SENSOR_VALUE && p.pdl == 9 && p.data[0] == 0 && p.message_count == 0);
    CHECK((int16_t)rdm_get16(p.data + 1) >= 97);

    /* SUPPORTED_PARAMETERS (34 bytes) arrives in 16-byte ACK_OVERFLOW pieces */
    uint8_t whole[64];
    size_t got = 0;
    for (int i = 0; i < 5; i++) {
        ask(&r, me, RDM_GET_COMMAND, RDM_PID_SUPPORTED_PARAMETERS, 0, NULL, 0, 0, &p);
        memcpy(whole + got, p.data, p.pdl);
        got += p.pdl;
        if (p.port_or_response == RDM_ACK)
            break;
        CHECK(p.port_or_response == RDM_ACK_OVERFLOW);
    }
    CHECK(got == 34 && rdm_get16(whole) == RDM_PID_QUEUED_MESSAGE);
}

static void test_selftest(void)
{
    rdm_responder r;
    rdm_uid me = {0x7FF0, 0x88};
    rdm_responder_init(&r, me, &rdm_models[0], 3);
    r.faults = RDM_FAULT_SELFTEST;
    rdm_packet p;
    uint8_t test = 1, bad = 9, level = RDM_STATUS_ERROR;
    ask(&r, me, RDM_SET_COMMAND, RDM_PID_PERFORM_SELFTEST, 0, &bad, 1, 0, &p);
    CHECK(nack_of(&p) == RDM_NR_DATA_OUT_OF_RANGE);
    ask(&r, me, RDM_SET_COMMAND, RDM_PID_PERFORM_SELFTEST, 0, &test, 1, 0, &p);
    CHECK(p.port_or_response == RDM_ACK);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_PERFORM_SELFTEST, 0, NULL, 0, 100, &p);
    CHECK(p.data[0] == 1);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_PERFORM_SELFTEST, 0, NULL, 0, 1000, &p);
    CHECK(p.data[0] == 0);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_STATUS_MESSAGES, 0, &level, 1, 1000, &p);
    CHECK(p.pdl == 9 && p.data[2] == RDM_STATUS_ERROR && rdm_get16(p.data + 3) == RDM_STS_SELFTEST_FAILED);
    ask(&r, me, RDM_GET_COMMAND, RDM_PID_SELF_TEST_DESCRIPTION, 0, &test, 1, 0, &p);
    CHECK(p.pdl > 1 && p.data[0] == 1);
}

static size_t frame(uint8_t label, const uint8_t *payload, uint16_t n, uint8_t *out)
{
    return usbpro_encode(label, payload, n, out, 700);
}

static void test_widget(void)
{
    static usbpro_widget w;
    usbpro_widget_init(&w, 2, 1, 0x01020304);
    uint8_t buf[700];
    /* garbage, then a serial number request split over two feeds */
    const uint8_t noise[] = {0x00, 0xE7, 0x7E, 0x0A, 0xFF, 0xFF};
    usbpro_widget_feed(&w, noise, sizeof noise, 0);
    size_t n = frame(USBPRO_LABEL_SERIAL, NULL, 0, buf);
    w.out_length = 0;
    usbpro_widget_feed(&w, buf, 2, 0);
    usbpro_widget_feed(&w, buf + 2, n - 2, 0);
    const uint8_t serial_reply[] = {0x7E, 0x0A, 0x04, 0x00, 0x04, 0x03, 0x02, 0x01, 0xE7};
    CHECK(w.out_length == sizeof serial_reply && memcmp(w.out, serial_reply, sizeof serial_reply) == 0);

    const uint8_t user[2] = {0, 0};
    w.out_length = 0;
    usbpro_widget_feed(&w, buf, frame(USBPRO_LABEL_GET_PARAMS, user, 2, buf), 0);
    CHECK(w.out_length == 10 && w.out[1] == 3 && w.out[4] == 15 && w.out[5] == 4);

    /* an RDM GET to nobody: label 12, empty */
    w.out_length = 0;
    usbpro_widget_feed(&w, buf, frame(USBPRO_LABEL_SEND_RDM, ola_vector, sizeof ola_vector, buf), 0);
    CHECK(w.out_length == 5 && w.out[1] == USBPRO_LABEL_RDM_TIMEOUT && w.out[2] == 0);

    /* full-range DUB with two drivers: one collided label-5 reply that does not decode */
    rdm_packet q;
    memset(&q, 0, sizeof q);
    q.destination.manufacturer = 0xFFFF;
    q.destination.device = 0xFFFFFFFF;
    q.source = controller;
    q.command_class = RDM_DISCOVERY_COMMAND;
    q.pid = RDM_PID_DISC_UNIQUE_BRANCH;
    q.pdl = 12;
    memset(q.data + 6, 0xFF, 6);
    q.data[11] = 0xFE;
    uint8_t rdm[RDM_MAX_FRAME];
    size_t rn;
    rdm_serialize(&q, rdm, sizeof rdm, &rn);
    w.out_length = 0;
    usbpro_widget_feed(&w, buf, frame(USBPRO_LABEL_SEND_RDM_DISCOVERY, rdm, (uint16_t)rn, buf), 0);
    CHECK(w.out_length == 5 + 25 && w.out[1] == USBPRO_LABEL_RECEIVED_DMX && w.out[4] == 0);
    rdm_uid back;
    CHECK(rdm_decode_dub_response(w.out + 5, 24, &back) == RDM_ERR_CHECKSUM);

    /* a corrupted request (bad checksum) is ignored by the drivers: label 12 */
    rdm[rn - 1] ^= 0xFF;
    w.out_length = 0;
    usbpro_widget_feed(&w, buf, frame(USBPRO_LABEL_SEND_RDM, rdm, (uint16_t)rn, buf), 0);
    CHECK(w.out_length == 5 && w.out[1] == USBPRO_LABEL_RDM_TIMEOUT);

    /* fault specs */
    char error[200];
    CHECK(usbpro_widget_apply_fault(&w, "overtemp:1", error, sizeof error) == 0);
    CHECK(w.responders[1].faults == RDM_FAULT_OVERTEMP);
    CHECK(usbpro_widget_apply_fault(&w, "overtemp:2", error, sizeof error) == -1);
    CHECK(usbpro_widget_apply_fault(&w, "melting:0", error, sizeof error) == -1);
    CHECK(usbpro_widget_apply_fault(&w, "vanish:0@12", error, sizeof error) == 0);
    CHECK(w.responders[0].vanish_after == 12);
    CHECK(usbpro_widget_apply_fault(&w, "collide:1", error, sizeof error) == 0);
    CHECK((w.responders[1].uid.device ^ w.responders[0].uid.device) == 1);
    CHECK(usbpro_widget_apply_fault(&w, "widget-reset@x", error, sizeof error) == -1);
}

int main(void)
{
    test_codec();
    test_dub_encoding();
    test_responder_nacks();
    test_discovery_and_mute();
    test_ack_timer_and_overflow();
    test_selftest();
    test_widget();
    printf("test_rdm: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
