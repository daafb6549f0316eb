/* Fault model: the SPEC parser, every fault kind found at exactly its place (electrically
 * through READ_LED_STATUS / MODULE_TEST / telemetry, optically through the light function),
 * and determinism with --seed. */
#include "../core/bytes.h"
#include "../core/device.h"
#include "check.h"
#include "harness.h"
#include <string.h>

static harness h;

/* The whole status of a cabinet as read over the protocol in 300-byte chunks. */
static int read_cabinet_status(uint16_t cabinet, uint8_t *out, uint32_t *total)
{
    uint32_t offset = 0;
    static uint16_t id = 1000;
    do {
        uint8_t rq[8];
        ls_put_u16(rq, cabinet);
        ls_put_u32(rq + 2, offset);
        ls_put_u16(rq + 6, 300);
        const captured_frame *c = harness_call(&h, ++id, LS_CMD_READ_LED_STATUS, rq, 8);
        if (!c || c->frame.status != LS_ST_OK) return -1;
        *total = ls_get_u32(c->payload + 2);
        memcpy(out + offset, c->payload + 10, c->frame.length - 10u);
        offset += c->frame.length - 10u;
    } while (offset < *total);
    return 0;
}

/* Checks that exactly the LEDs for which expect() is non-zero have that status byte, and
 * every other LED of every cabinet reads 0. */
typedef uint8_t (*expectation)(uint32_t cabinet, uint32_t x, uint32_t y);

static void check_status(expectation expect)
{
    static uint8_t status[128 * 64];
    for (uint16_t cabinet = 0; cabinet < 4; cabinet++) {
        uint32_t total = 0;
        CHECK_EQ(read_cabinet_status(cabinet, status, &total), 0);
        CHECK_EQ(total, 128 * 64);
        int mismatches = 0;
        for (uint32_t i = 0; i < total && mismatches < 5; i++) {
            uint8_t want = expect(cabinet, i % 128, i / 128);
            if (status[i] != want) {
                fprintf(stderr, "  cabinet %u x %u y %u: status 0x%02x, expected 0x%02x\n",
                        cabinet, i % 128, i / 128, status[i], want);
                mismatches++;
                check_failures++;
            }
        }
    }
}

static void show(uint8_t pattern)
{
    uint8_t rq[3] = {pattern, 0, 0};
    harness_call(&h, 900, LS_CMD_SHOW_PATTERN, rq, 3);
}

static void light(uint32_t cabinet, uint32_t x, uint32_t y, uint8_t rgb[3])
{
    ls_device_led_light(ls_engine_device(h.engine), cabinet, x, y, rgb);
}

#define CHECK_RGB(cabinet, x, y, r, g, b)                                                      \
    do {                                                                                       \
        uint8_t rgb_[3];                                                                       \
        light(cabinet, x, y, rgb_);                                                            \
        CHECK_EQ(rgb_[0], r);                                                                  \
        CHECK_EQ(rgb_[1], g);                                                                  \
        CHECK_EQ(rgb_[2], b);                                                                  \
    } while (0)

/* brightness 80 %: full drive shows 204 */
#define FULL 204

static uint8_t expect_dead_led(uint32_t c, uint32_t x, uint32_t y)
{
    return (c == 0 && x == 10 && y == 5) ? LS_CH_OPEN : 0;
}

TEST(fault_dead_led_red_only)
{
    const char *f[] = {"dead-led cabinet=0 x=10 y=5 channel=red", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_dead_led);
    show(LS_PATTERN_WHITE);
    CHECK_RGB(0, 10, 5, 0, FULL, FULL);
    CHECK_RGB(0, 11, 5, FULL, FULL, FULL);
    CHECK_RGB(1, 10, 5, FULL, FULL, FULL);
    harness_stop(&h);
}

static uint8_t expect_stuck(uint32_t c, uint32_t x, uint32_t y)
{
    return (c == 3 && x == 127 && y == 63) ? (uint8_t)(LS_CH_SHORT << 2) : 0;
}

TEST(fault_stuck_led_wall_coordinates)
{
    /* wx=255 wy=127 is the bottom-right LED of the wall: cabinet 3, local 127,63 */
    const char *f[] = {"stuck-led wx=255 wy=127 channel=green", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_stuck);
    show(LS_PATTERN_BLACK);
    CHECK_RGB(3, 127, 63, 0, 255, 0); /* lit on black, at full drive */
    CHECK_RGB(3, 126, 63, 0, 0, 0);
    harness_stop(&h);
}

static uint8_t expect_dim(uint32_t c, uint32_t x, uint32_t y)
{
    return (c == 1 && x == 0 && y == 0) ? (uint8_t)(LS_CH_WEAK | LS_CH_WEAK << 2 | LS_CH_WEAK << 4) : 0;
}

TEST(fault_dim_led_all_channels)
{
    const char *f[] = {"dim-led cabinet=1 x=0 y=0 level=40", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_dim);
    show(LS_PATTERN_WHITE);
    CHECK_RGB(1, 0, 0, FULL * 40 / 100, FULL * 40 / 100, FULL * 40 / 100);
    CHECK_RGB(1, 1, 0, FULL, FULL, FULL);
    harness_stop(&h);
}

static uint8_t expect_row(uint32_t c, uint32_t x, uint32_t y)
{
    return (c == 1 && y == 7 && x <= 63) ? (uint8_t)(LS_CH_OPEN | LS_CH_OPEN << 2 | LS_CH_OPEN << 4) : 0;
}

TEST(fault_dead_row_segment)
{
    const char *f[] = {"dead-row cabinet=1 y=7 x0=0 x1=63", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_row);
    show(LS_PATTERN_WHITE);
    CHECK_RGB(1, 63, 7, 0, 0, 0);
    CHECK_RGB(1, 64, 7, FULL, FULL, FULL);
    harness_stop(&h);
}

static uint8_t expect_column(uint32_t c, uint32_t x, uint32_t y)
{
    return (c == 0 && x == 3 && y <= 31) ? (uint8_t)(LS_CH_OPEN << 4) : 0;
}

TEST(fault_dead_column_segment_one_channel)
{
    const char *f[] = {"dead-column cabinet=0 x=3 y0=0 y1=31 channel=blue", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_column);
    show(LS_PATTERN_BLUE);
    CHECK_RGB(0, 3, 31, 0, 0, 0);
    CHECK_RGB(0, 3, 32, 0, 0, FULL);
    harness_stop(&h);
}

/* Module m of a 2x2-module cabinet of 64x32 modules covers x 64*(m%2).., y 32*(m/2).. */
static int in_module(uint32_t x, uint32_t y, uint32_t m)
{
    return x / 64 == m % 2 && y / 32 == m / 2;
}

static uint8_t expect_dead_module(uint32_t c, uint32_t x, uint32_t y)
{
    return (c == 2 && in_module(x, y, 3)) ? LS_LED_NO_DATA : 0;
}

/* The MODULE_TEST record of one module. */
static int module_record(uint16_t cabinet, uint8_t module, uint8_t record[6])
{
    uint8_t rq[2];
    ls_put_u16(rq, cabinet);
    const captured_frame *c = harness_call(&h, 950, LS_CMD_MODULE_TEST, rq, 2);
    if (!c || c->frame.status != LS_ST_OK || c->payload[2] <= module) return -1;
    memcpy(record, c->payload + 3 + 6 * module, 6);
    return 0;
}

TEST(fault_dead_module)
{
    const char *f[] = {"dead-module cabinet=2 module=3", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_dead_module);
    uint8_t r[6];
    CHECK_EQ(module_record(2, 3, r), 0);
    CHECK_EQ(r[1], 0); /* nothing answers */
    CHECK_EQ(r[5], 0);
    CHECK_EQ(module_record(2, 2, r), 0);
    CHECK_EQ(r[1], LS_MT_PASS);
    show(LS_PATTERN_WHITE);
    CHECK_RGB(2, 64, 32, 0, 0, 0);
    CHECK_RGB(2, 63, 32, FULL, FULL, FULL);
    harness_stop(&h);
}

static uint8_t expect_chain(uint32_t c, uint32_t x, uint32_t y)
{
    return (c == 0 && (in_module(x, y, 2) || in_module(x, y, 3))) ? LS_LED_NO_DATA : 0;
}

TEST(fault_chain_break_after_module_1)
{
    const char *f[] = {"chain-break cabinet=0 after=1", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_chain);
    uint8_t r[6];
    for (uint8_t m = 0; m < 4; m++) {
        CHECK_EQ(module_record(0, m, r), 0);
        CHECK_EQ(r[1] & LS_MT_CHAIN, m <= 1 ? LS_MT_CHAIN : 0);
    }
    show(LS_PATTERN_WHITE);
    CHECK_RGB(0, 127, 31, FULL, FULL, FULL);
    CHECK_RGB(0, 0, 32, 0, 0, 0);
    harness_stop(&h);
}

static uint8_t expect_missing_ic(uint32_t c, uint32_t x, uint32_t y)
{
    /* IC 2: channel 2 (blue) of module columns 0..15; module 1 is x 64..127, y 0..31 */
    return (c == 0 && x >= 64 && x < 80 && y < 32) ? (uint8_t)(LS_CH_OPEN << 4) : 0;
}

TEST(fault_missing_ic)
{
    const char *f[] = {"missing-ic cabinet=0 module=1 ic=2", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_missing_ic);
    uint8_t r[6];
    CHECK_EQ(module_record(0, 1, r), 0);
    CHECK_EQ(r[1], LS_MT_PASS & ~LS_MT_DRIVERS);
    CHECK_EQ(r[4], 12);
    CHECK_EQ(r[5], 11);
    CHECK_EQ(module_record(0, 0, r), 0);
    CHECK_EQ(r[1], LS_MT_PASS);
    harness_stop(&h);
}

static uint8_t expect_nothing(uint32_t c, uint32_t x, uint32_t y)
{
    (void)c, (void)x, (void)y;
    return 0;
}

TEST(fault_calibration_mismatch)
{
    const char *f[] = {"calibration-mismatch cabinet=0 module=0", NULL};
    harness_start(&h, NULL, 1, f);
    check_status(expect_nothing);
    uint8_t r[6];
    CHECK_EQ(module_record(0, 0, r), 0);
    CHECK_EQ(r[1], LS_MT_PASS & ~LS_MT_CALIBRATION);
    CHECK_EQ(module_record(0, 1, r), 0);
    CHECK_EQ(r[1], LS_MT_PASS);
    CHECK_EQ(module_record(1, 0, r), 0);
    CHECK_EQ(r[1], LS_MT_PASS);
    harness_stop(&h);
}

/* The telemetry of a cabinet through the protocol. */
static ls_telemetry telemetry(uint16_t cabinet)
{
    ls_telemetry t = {0, 0, 0, 0, 0};
    uint8_t rq[2];
    ls_put_u16(rq, cabinet);
    const captured_frame *c = harness_call(&h, 960, LS_CMD_READ_TELEMETRY, rq, 2);
    if (c && c->frame.status == LS_ST_OK) {
        t.temperature_decicelsius = (int16_t)ls_get_u16(c->payload + 2);
        t.supply_millivolts = ls_get_u16(c->payload + 4);
        t.fan_rpm = ls_get_u16(c->payload + 6);
    }
    return t;
}

/* Stored events of a type: count, and the last one's cabinet and value. */
static int events_of(uint8_t type, uint16_t *cabinet, int16_t *value)
{
    ls_device *d = ls_engine_device(h.engine);
    int n = 0;
    for (uint32_t i = 0; i < ls_device_event_count(d); i++) {
        ls_event e = ls_device_event_at(d, i);
        if (e.type != type) continue;
        n++;
        *cabinet = e.cabinet;
        *value = e.value;
    }
    return n;
}

TEST(fault_over_temperature_logs_once)
{
    const char *f[] = {"over-temperature cabinet=0 celsius=85", NULL};
    harness_start(&h, NULL, 1, f);
    CHECK_EQ(telemetry(0).temperature_decicelsius, 850);
    CHECK(telemetry(1).temperature_decicelsius < 750);
    harness_wait(&h, 5000);
    uint16_t cabinet = 0;
    int16_t value = 0;
    CHECK_EQ(events_of(LS_EV_OVER_TEMPERATURE, &cabinet, &value), 1);
    CHECK_EQ(cabinet, 0);
    CHECK_EQ(value, 850);
    harness_stop(&h);
}

TEST(fault_under_voltage_fails_supply_check)
{
    const char *f[] = {"under-voltage cabinet=1 millivolts=4300", NULL};
    harness_start(&h, NULL, 1, f);
    CHECK_EQ(telemetry(1).supply_millivolts, 4300);
    uint16_t cabinet = 0;
    int16_t value = 0;
    CHECK_EQ(events_of(LS_EV_UNDER_VOLTAGE, &cabinet, &value), 1);
    CHECK_EQ(cabinet, 1);
    CHECK_EQ(value, 430);
    uint8_t r[6];
    CHECK_EQ(module_record(1, 0, r), 0);
    CHECK_EQ(r[1], LS_MT_PASS & ~LS_MT_SUPPLY);
    CHECK_EQ(ls_get_u16(r + 2), 4300);
    CHECK_EQ(module_record(0, 0, r), 0);
    CHECK_EQ(r[1], LS_MT_PASS);
    harness_stop(&h);
}

TEST(fault_fan_stall_with_onset)
{
    /* the fan stops 2.5 s after start-up: an EVENT frame goes out then, not before */
    const char *f[] = {"fan-stall cabinet=3 after=2.5", NULL};
    harness_start(&h, NULL, 1, f);
    CHECK(telemetry(3).fan_rpm >= 2000);
    harness_clear(&h);
    harness_wait(&h, 2000);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 0);
    harness_wait(&h, 1500);
    harness_collect(&h);
    CHECK_EQ(h.frame_count, 1);
    if (h.frame_count) {
        CHECK_EQ(h.frames[0].frame.command, LS_CMD_EVENT);
        CHECK_EQ(h.frames[0].payload[8], LS_EV_FAN_STALL);
        CHECK_EQ(ls_get_u16(h.frames[0].payload + 10), 3);
        CHECK_EQ(ls_get_u32(h.frames[0].payload + 4), 3); /* uptime seconds */
    }
    CHECK_EQ(telemetry(3).fan_rpm, 0);
    harness_stop(&h);
}

TEST(fault_cabinet_offline)
{
    const char *f[] = {"cabinet-offline cabinet=1", NULL};
    harness_start(&h, NULL, 1, f);
    uint8_t rq[8] = {1, 0, 0, 0, 0, 0, 10, 0};
    const captured_frame *c = harness_call(&h, 1, LS_CMD_READ_LED_STATUS, rq, 8);
    CHECK(c && c->frame.status == LS_ST_HARDWARE_FAULT);
    c = harness_call(&h, 2, LS_CMD_MODULE_TEST, rq, 2);
    CHECK(c && c->frame.status == LS_ST_HARDWARE_FAULT);
    c = harness_call(&h, 3, LS_CMD_READ_TELEMETRY, rq, 2);
    CHECK(c && c->frame.status == LS_ST_HARDWARE_FAULT);
    show(LS_PATTERN_WHITE);
    CHECK_RGB(1, 5, 5, 0, 0, 0);
    CHECK_RGB(0, 5, 5, FULL, FULL, FULL);
    harness_stop(&h);
}

TEST(link_fault_specs_parse)
{
    ls_geometry g = harness_default_geometry();
    ls_fault f;
    char error[200];
    CHECK_EQ(ls_fault_parse("flaky-link drop=0.05 corrupt=0.001", &g, &f, error, sizeof error), 0);
    CHECK_EQ(f.kind, LS_FAULT_FLAKY_LINK);
    CHECK_EQ(f.drop_ppm, 50000);
    CHECK_EQ(f.corrupt_ppm, 1000);
    CHECK_EQ(ls_fault_parse("unplug-after seconds=3", &g, &f, error, sizeof error), 0);
    CHECK_EQ(f.after_ms, 3000);
    CHECK_EQ(ls_fault_parse("  slow-response   ms=200 ", &g, &f, error, sizeof error), 0);
    CHECK_EQ(f.value, 200);
    CHECK_EQ(ls_fault_parse("over-temperature cabinet=0 celsius=85.5", &g, &f, error, sizeof error), 0);
    CHECK_EQ(f.value, 855);
}

TEST(bad_fault_specs_name_the_problem)
{
    ls_geometry g = harness_default_geometry();
    static const struct {
        const char *spec, *message_part;
    } cases[] = {
        {"dead-pixel cabinet=0", "unknown fault kind 'dead-pixel'"},
        {"dead-led cabinet=4 x=0 y=0", "bad value for cabinet='4'"},
        {"dead-led cabinet=0 x=128 y=0", "bad value for x='128' (expected a whole number from 0 to 127)"},
        {"dead-led cabinet=0 x=1", "missing key y"},
        {"dead-led cabinet=0 x=1 y=1 channel=purple", "bad channel 'purple'"},
        {"dead-led cabinet=0 x=1 y=1 colour=red", "unknown key 'colour'"},
        {"dead-led cabinet=0 x=1 y=1 x=2", "repeated key x"},
        {"dead-led cabinet=0 x=-1 y=1", "bad value for x"},
        {"dead-led cabinet=0 x=1 y", "expected key=value"},
        {"dead-led wx=1 wy=1 cabinet=0", "either cabinet,x,y or wx,wy"},
        {"dim-led cabinet=0 x=1 y=1 level=101", "bad value for level"},
        {"dead-row cabinet=0 y=1 x0=9 x1=3", "x0 must not exceed x1"},
        {"dead-module cabinet=0 module=4", "bad value for module"},
        {"missing-ic cabinet=0 module=0 ic=12", "bad value for ic"},
        {"flaky-link", "give drop= and/or corrupt="},
        {"flaky-link drop=1.5", "bad value for drop"},
        {"", "unknown fault kind ''"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ls_fault f;
        char error[300] = "";
        int status = ls_fault_parse(cases[i].spec, &g, &f, error, sizeof error);
        CHECK_EQ(status, -1);
        if (!strstr(error, cases[i].message_part)) {
            fprintf(stderr, "  spec '%s': message '%s' lacks '%s'\n", cases[i].spec, error,
                    cases[i].message_part);
            check_failures++;
        }
    }
}

TEST(seed_determines_identity_and_telemetry)
{
    static char serial_a[80], serial_b[80];
    harness start;
    (void)start;
    harness_start(&h, NULL, 42, NULL);
    ls_device *d = ls_engine_device(h.engine);
    snprintf(serial_a, sizeof serial_a, "%s/%s", ls_device_serial(d), ls_device_cabinet_serial(d, 3));
    ls_telemetry ta = ls_device_telemetry(d, 2);
    uint32_t checksum_a = ls_device_cabinet_calibration_checksum(d, 1);
    harness_stop(&h);
    harness_start(&h, NULL, 42, NULL);
    d = ls_engine_device(h.engine);
    snprintf(serial_b, sizeof serial_b, "%s/%s", ls_device_serial(d), ls_device_cabinet_serial(d, 3));
    ls_telemetry tb = ls_device_telemetry(d, 2);
    CHECK(strcmp(serial_a, serial_b) == 0);
    CHECK(memcmp(&ta, &tb, sizeof ta) == 0);
    CHECK_EQ(ls_device_cabinet_calibration_checksum(d, 1), checksum_a);
    harness_stop(&h);
    harness_start(&h, NULL, 43, NULL);
    d = ls_engine_device(h.engine);
    snprintf(serial_b, sizeof serial_b, "%s/%s", ls_device_serial(d), ls_device_cabinet_serial(d, 3));
    CHECK(strcmp(serial_a, serial_b) != 0);
    CHECK(ls_device_cabinet_calibration_checksum(d, 1) != checksum_a);
    harness_stop(&h);
}

TEST(optical_patterns_and_render)
{
    ls_geometry g = {2, 1, 1, 1, 8, 4}; /* a 16x4 wall */
    harness_start(&h, &g, 1, NULL);
    ls_device *d = ls_engine_device(h.engine);
    uint8_t rq[5] = {LS_PARAM_BRIGHTNESS};
    ls_put_u32(rq + 1, 100);
    harness_call(&h, 1, LS_CMD_SET_PARAM, rq, 5);
    static uint8_t rgb[16 * 4 * 3];
    uint8_t pattern[3] = {LS_PATTERN_CHECKERBOARD, 2, 0};
    harness_call(&h, 2, LS_CMD_SHOW_PATTERN, pattern, 3);
    CHECK_EQ(ls_device_render(d, rgb, 48, sizeof rgb), 0);
    for (uint32_t y = 0; y < 4; y++)
        for (uint32_t x = 0; x < 16; x++)
            CHECK_EQ(rgb[y * 48 + x * 3 + 1], ((x / 2 + y / 2) % 2 == 0) ? 255 : 0);
    pattern[0] = LS_PATTERN_WALKING_PIXEL;
    ls_put_u16(pattern + 1, 16 + 9); /* x 9, y 1: cabinet 1, local x 1 */
    harness_call(&h, 3, LS_CMD_SHOW_PATTERN, pattern, 3);
    CHECK_EQ(ls_device_render(d, rgb, 48, sizeof rgb), 0);
    int lit = 0;
    for (size_t i = 0; i < sizeof rgb; i++) lit += rgb[i] != 0;
    CHECK_EQ(lit, 3);
    CHECK_RGB(1, 1, 1, 255, 255, 255);
    pattern[0] = LS_PATTERN_GRADIENT;
    ls_put_u16(pattern + 1, 0);
    harness_call(&h, 4, LS_CMD_SHOW_PATTERN, pattern, 3);
    CHECK_RGB(0, 0, 0, 0, 0, 0);
    CHECK_RGB(1, 7, 3, 255, 255, 255);
    pattern[0] = LS_PATTERN_GRID;
    ls_put_u16(pattern + 1, 4);
    harness_call(&h, 5, LS_CMD_SHOW_PATTERN, pattern, 3);
    CHECK_RGB(0, 4, 1, 255, 255, 255);
    CHECK_RGB(0, 5, 1, 0, 0, 0);
    CHECK_RGB(0, 5, 0, 255, 255, 255);
    CHECK_EQ(ls_device_render(d, rgb, 47, sizeof rgb), -1);
    CHECK_EQ(ls_device_render(d, rgb, 48, sizeof rgb - 1), -1);
    harness_stop(&h);
}

TEST(later_fault_overrides_earlier_on_same_channel)
{
    const char *f[] = {"dead-row cabinet=0 y=0", "stuck-led cabinet=0 x=5 y=0 channel=red", NULL};
    harness_start(&h, NULL, 1, f);
    CHECK_EQ(ls_device_led_status(ls_engine_device(h.engine), 0, 5, 0),
             LS_CH_SHORT | LS_CH_OPEN << 2 | LS_CH_OPEN << 4);
    CHECK_EQ(ls_device_led_status(ls_engine_device(h.engine), 0, 6, 0),
             LS_CH_OPEN | LS_CH_OPEN << 2 | LS_CH_OPEN << 4);
    harness_stop(&h);
}

TEST(hand_built_faults_outside_the_wall_are_refused)
{
    ls_device_config config = {harness_default_geometry(), 1, NULL, NULL};
    static const ls_fault bad[] = {
        {LS_FAULT_MISSING_IC, 0, 0, 0, 0, 0, 0, 0, 0, 300, 0, 0, 0, 0},  /* IC 300 of 12 */
        {LS_FAULT_DEAD_LED, 0, 0, 0, 128, 0, 7, 0, 0, 0, 0, 0, 0, 0},    /* x 128 of 0..127 */
        {LS_FAULT_DEAD_MODULE, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},   /* cabinet 4 of 0..3 */
        {LS_FAULT_CHAIN_BREAK, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0},   /* module 4 of 0..3 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char error[128] = "";
        ls_engine *e = ls_engine_create(&config, &bad[i], 1, NULL, NULL, 0, error, sizeof error);
        CHECK(e == NULL);
        CHECK(strstr(error, "outside the wall") != NULL);
        ls_engine_destroy(e);
    }
    /* and the pool is not leaked by refusals */
    for (int i = 0; i < LS_ENGINE_POOL + 2; i++) {
        harness_start(&h, NULL, 1, NULL);
        CHECK(h.engine != NULL);
        harness_stop(&h);
    }
}
