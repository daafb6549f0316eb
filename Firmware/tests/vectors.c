/* Protocol test vectors (Docs/controller-protocol.md section 5, tests/vectors.txt).
 *
 * One script, run in order against one reference device, produces every vector: the
 * request bytes come from the frame encoder, the response bytes from the engine. The test
 * replays tests/vectors.txt against a fresh device and demands the same bytes, and checks
 * every frame in it decodes and re-encodes exactly. `--generate TXT MD` rewrites the file
 * and the annotated Markdown. */
#include "../core/bytes.h"
#include "check.h"
#include "harness.h"
#include "support.h"
#include <stdlib.h>
#include <string.h>

/* The device the vectors were taken from: ledsentry-emu --seed 1 with these faults. */
static const char *const vector_faults[] = {"dead-led cabinet=0 x=2 y=0 channel=red",
                                            "over-temperature cabinet=1 celsius=85", NULL};

/* A payload field group: bytes and what they mean. */
typedef struct {
    int size; /* 0 ends the list; -1: the rest of the payload */
    const char *comment;
} field;

typedef struct {
    const char *name;
    const char *title;
    uint8_t version, flags;
    uint16_t id;
    uint8_t command;
    uint8_t payload[16];
    uint8_t length;
    field request[6];
    field response[16];
} vector;

static const vector script[] = {
    {"hello", "HELLO: the host speaks versions 1..1", 1, 0, 1, 0x01, {1, 1}, 2,
     {{2, "min_version 1, max_version 1"}},
     {{1, "version 1"}, {2, "max_payload 1024"}, {4, "capabilities: events, per-LED status, telemetry"}}},
    {"identify", "IDENTIFY", 1, 0, 2, 0x02, {0}, 0, {{0, NULL}},
     {{9, "model \"LS-SC400\""}, {13, "serial \"LSS-00822465\""}, {6, "firmware \"1.4.2\""},
      {2, "hardware_revision \"C\""}, {4, "cabinet_columns 2, cabinet_rows 2"},
      {2, "modules_x 2, modules_y 2"}, {4, "module_width 64, module_height 32"}}},
    {"cabinet_info", "CABINET_INFO of cabinet 0", 1, 0, 3, 0x03, {0, 0}, 2, {{2, "cabinet 0"}},
     {{2, "cabinet 0"}, {13, "serial \"LSC-66428519\""}, {6, "firmware \"2.1.0\""}, {2, "hardware_revision \"B\""},
      {4, "calibration_checksum 0xD22C1BC8"}}},
    {"get_param", "GET_PARAM brightness", 1, 0, 4, 0x04, {1}, 1, {{1, "param_id 1 (brightness)"}},
     {{1, "param_id 1"}, {4, "value 80"}, {4, "min 0"}, {4, "max 100"}}},
    {"set_param_ok", "SET_PARAM brightness = 50", 1, 0, 5, 0x05, {1, 50, 0, 0, 0}, 5,
     {{1, "param_id 1"}, {4, "value 50"}}, {{1, "param_id 1"}, {4, "value now in force 50"}}},
    {"set_param_out_of_range", "SET_PARAM brightness = 101: OUT_OF_RANGE", 1, 0, 6, 0x05,
     {1, 101, 0, 0, 0}, 5, {{1, "param_id 1"}, {4, "value 101"}},
     {{1, "param_id 1"}, {4, "min 0"}, {4, "max 100"}}},
    {"show_pattern", "SHOW_PATTERN grid, default spacing", 1, 0, 7, 0x06, {6, 0, 0}, 3,
     {{1, "pattern 6 (grid lines)"}, {2, "argument 0 (default spacing)"}},
     {{1, "pattern 6"}, {2, "argument in force: spacing 8"}}},
    {"module_test", "MODULE_TEST of cabinet 0 (answered after the test, ~60 ms)", 1, 0, 8, 0x07,
     {0, 0}, 2, {{2, "cabinet 0"}},
     {{2, "cabinet 0"}, {1, "count 4"},
      {6, "module 0: result 0x0F (all four checks pass), 5025 mV, 12 driver ICs expected, 12 found"},
      {6, "module 1: 0x0F, 5019 mV, 12, 12"}, {6, "module 2: 0x0F, 5013 mV, 12, 12"},
      {6, "module 3: 0x0F, 5007 mV, 12, 12"}}},
    {"read_led_status", "READ_LED_STATUS: the first 16 LEDs of cabinet 0", 1, 0, 9, 0x08,
     {0, 0, 0, 0, 0, 0, 16, 0}, 8, {{2, "cabinet 0"}, {4, "offset 0"}, {2, "max_bytes 16"}},
     {{2, "cabinet 0"}, {4, "total 8192 (128 x 64 LEDs)"}, {4, "offset 0"},
      {-1, "16 status bytes: LED x=2 y=0 is 0x01, red OPEN"}}},
    {"read_telemetry", "READ_TELEMETRY of cabinet 1 (over-temperature)", 1, 0, 10, 0x09, {1, 0}, 2,
     {{2, "cabinet 1"}},
     {{2, "cabinet 1"}, {2, "temperature 850 = 85.0 C"}, {2, "supply 4966 mV"},
      {2, "fan 2138 rpm"}, {4, "runtime_hours 11156"}, {4, "power_cycles 1805"}}},
    {"read_events", "READ_EVENTS from sequence 0, at most 8", 1, 0, 11, 0x0A, {0, 0, 0, 0, 8}, 5,
     {{4, "first_sequence 0"}, {1, "max_count 8"}},
     {{2, "stored 2"}, {1, "count 2"},
      {14, "seq 1, uptime 0 s, type 5 power loss, reserved, cabinet 0xFFFF (sending card), value 0"},
      {14, "seq 2, uptime 0 s, type 1 over-temperature, reserved, cabinet 1, value 850"}}},
    {"clear_events", "CLEAR_EVENTS", 1, 0, 12, 0x0B, {0}, 0, {{0, NULL}}, {{2, "cleared 2"}}},
    {"retry_set_param", "SET_PARAM of request 5 again with RETRY: the remembered answer, not re-run",
     1, LS_FLAG_RETRY, 5, 0x05, {1, 50, 0, 0, 0}, 5, {{1, "param_id 1"}, {4, "value 50"}},
     {{1, "param_id 1"}, {4, "value 50"}}},
    {"unknown_command", "command 0x42: UNKNOWN_COMMAND", 1, 0, 14, 0x42, {0}, 0, {{0, NULL}},
     {{0, NULL}}},
    {"bad_length", "GET_PARAM without its param_id: BAD_LENGTH", 1, 0, 15, 0x04, {0}, 0,
     {{0, NULL}}, {{0, NULL}}},
    {"unsupported_version", "a version 2 frame: UNSUPPORTED_VERSION, answered in version 1", 2, 0,
     16, 0x02, {0}, 0, {{0, NULL}}, {{1, "min_version 1"}, {1, "max_version 1"}}},
    {"led_status_not_found", "READ_LED_STATUS of cabinet 9: NOT_FOUND", 1, 0, 17, 0x08,
     {9, 0, 0, 0, 0, 0, 0, 1}, 8, {{2, "cabinet 9"}, {4, "offset 0"}, {2, "max_bytes 256"}},
     {{0, NULL}}},
    {"reboot", "REBOOT (then silent for up to 1000 ms)", 1, 0, 18, 0x0C, {0}, 0, {{0, NULL}},
     {{0, NULL}}},
};
#define SCRIPT_COUNT (sizeof script / sizeof script[0])

static size_t encode_request(const vector *v, uint8_t *out)
{
    ls_frame f = {v->version, v->flags, v->id, v->command, 0, v->length, v->payload};
    return ls_frame_encode(&f, out, LS_MAX_FRAME);
}

/* Sends raw request bytes and returns the response frame to it (NULL if none). */
static const captured_frame *exchange(harness *h, const uint8_t *request, size_t size,
                                      uint16_t id, uint8_t command)
{
    harness_clear(h);
    ls_engine_receive(h->engine, request, size, h->now_ms);
    for (int waited = 0; waited <= 3000; waited += 5) {
        harness_collect(h);
        for (size_t i = 0; i < h->frame_count; i++)
            if (!(h->frames[i].frame.flags & LS_FLAG_EVENT) && h->frames[i].frame.request_id == id &&
                h->frames[i].frame.command == command)
                return &h->frames[i];
        harness_wait(h, 5);
    }
    return NULL;
}

/* The unsolicited over-temperature EVENT frame the device sends at power-on. */
static int boot_event(harness *h, uint8_t *out, size_t *size)
{
    harness_collect(h);
    for (size_t i = 0; i < h->frame_count; i++)
        if (h->frames[i].frame.command == LS_CMD_EVENT && h->frames[i].payload[8] == LS_EV_OVER_TEMPERATURE) {
            memcpy(out, h->frames[i].raw, h->frames[i].raw_size);
            *size = h->frames[i].raw_size;
            return 0;
        }
    return -1;
}

/* ---- Markdown ---- */

static const char section_intro[] =
    "## 5. Test vectors\n"
    "\n"
    "Generated by the reference firmware's encoder and protocol engine (`make -C Firmware\n"
    "vectors`) and checked by its C tests (`make -C Firmware test`, which also checks that this\n"
    "section is current). The same vectors, one `name request-hex response-hex` per line\n"
    "(`-` for no request), are in `Firmware/tests/vectors.txt` for other implementations' tests.\n"
    "\n"
    "They were taken **in this order from one device**:\n"
    "`ledsentry-emu --seed 1 --fault 'dead-led cabinet=0 x=2 y=0 channel=red' --fault\n"
    "'over-temperature cabinet=1 celsius=85'` (default wall: 2x2 cabinets of 2x2 modules of\n"
    "64x32 LEDs), freshly started, requests sent within its first second. Order matters for\n"
    "5.13 (a retry of 5.5's request: the device answers from its retry cache) and for the\n"
    "event log (5.11, 5.12). Frame layouts (section 1) are normative; values such as serial\n"
    "numbers and telemetry are this device's. Long payloads are shown up to 24 bytes here;\n"
    "`vectors.txt` has every byte. Each line shows hex bytes, then at least two spaces, then\n"
    "a comment. 5.19 is the frame the device sends as it powers on; `ledsentry-emu` sends it\n"
    "before its port exists, so a client of the emulator finds it only in the log (the\n"
    "second record of 5.11).\n"
    "\n";

static void md_bytes(FILE *md, const uint8_t *b, size_t n, const char *comment)
{
    char text[3 * 64 + 8] = "";
    size_t shown = n > 24 ? 24 : n;
    for (size_t i = 0; i < shown; i++) sprintf(text + strlen(text), "%s%02x", i ? " " : "", b[i]);
    if (shown < n) strcat(text, " ...");
    /* two spaces at least, so that a comment starting with digits ("16 status bytes")
       can not be read as one more hex byte */
    fprintf(md, "    %-47s  %s\n", text, comment);
}

static void md_frame(FILE *md, const char *label, const uint8_t *b, size_t n, const field *fields)
{
    static const char *const commands[] = {"?", "HELLO", "IDENTIFY", "CABINET_INFO", "GET_PARAM",
                                           "SET_PARAM", "SHOW_PATTERN", "MODULE_TEST",
                                           "READ_LED_STATUS", "READ_TELEMETRY", "READ_EVENTS",
                                           "CLEAR_EVENTS", "REBOOT"};
    static const char *const statuses[] = {"OK", "UNKNOWN_COMMAND", "BAD_LENGTH", "OUT_OF_RANGE",
                                           "UNSUPPORTED_VERSION", "NOT_FOUND", "BUSY",
                                           "HARDWARE_FAULT", "READ_ONLY", "UNKNOWN_PARAMETER",
                                           "BAD_ARGUMENT"};
    uint16_t length = ls_get_u16(b + 8);
    char header[200], flags[40] = "";
    if (b[3] & LS_FLAG_RESPONSE) strcat(flags, "RESPONSE|");
    if (b[3] & LS_FLAG_EVENT) strcat(flags, "EVENT|");
    if (b[3] & LS_FLAG_RETRY) strcat(flags, "RETRY|");
    if (*flags) flags[strlen(flags) - 1] = '\0';
    else strcpy(flags, "none");
    const char *command = b[6] == LS_CMD_EVENT ? "EVENT" : b[6] <= 12 ? commands[b[6]] : "unknown";
    char status[40];
    if (b[3] & LS_FLAG_RESPONSE)
        snprintf(status, sizeof status, "%s", b[7] <= 10 ? statuses[b[7]] : "?");
    else
        snprintf(status, sizeof status, "%u", b[7]);
    snprintf(header, sizeof header, "version %u, flags %s, request_id %u, %s (0x%02x), status %s, length %u",
             b[2], flags, ls_get_u16(b + 4), command, b[6], status, length);
    fprintf(md, "%s (%zu bytes):\n\n", label, n);
    md_bytes(md, b, 2, "start of frame");
    md_bytes(md, b + 2, 8, header);
    size_t at = 10;
    for (const field *f = fields; f->size != 0 && at < 10u + length; f++) {
        size_t size = f->size < 0 ? 10u + length - at : (size_t)f->size;
        md_bytes(md, b + at, size, f->comment);
        at += size;
    }
    if (at != 10u + length) {
        fprintf(stderr, "vector field sizes do not add up for %s\n", label);
        exit(1);
    }
    md_bytes(md, b + at, 4, "CRC-32 (version .. end of payload), little-endian");
    fprintf(md, "\n");
}

static void write_hex(FILE *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) fprintf(out, "%02x", b[i]);
}

int vectors_generate(const char *txt_path, const char *md_path)
{
    FILE *txt = fopen(txt_path, "w"), *md = fopen(md_path, "w");
    if (!txt || !md) {
        perror("vectors");
        return 1;
    }
    fprintf(md, "%s", section_intro);
    static harness h;
    if (harness_start(&h, NULL, 1, vector_faults) != 0) return 1;
    fprintf(txt, "# LEDSentry controller protocol v1 test vectors: name request-hex response-hex\n"
                 "# Taken in this order from `ledsentry-emu --seed 1 --fault 'dead-led cabinet=0 x=2 y=0\n"
                 "# channel=red' --fault 'over-temperature cabinet=1 celsius=85'` (defaults 2x2 cabinets,\n"
                 "# 2x2 modules, 64x32 LEDs). '-' means no request (an unsolicited frame).\n"
                 "# Generated by `make -C Firmware vectors`; checked by `make -C Firmware test`.\n");
    uint8_t event[LS_MAX_FRAME];
    size_t event_size = 0;
    if (boot_event(&h, event, &event_size) != 0) return 1;
    for (size_t i = 0; i < SCRIPT_COUNT; i++) {
        const vector *v = &script[i];
        uint8_t request[LS_MAX_FRAME];
        size_t size = encode_request(v, request);
        const captured_frame *c = exchange(&h, request, size, v->id, v->command);
        if (!c) {
            fprintf(stderr, "vector %s: no response\n", v->name);
            return 1;
        }
        fprintf(txt, "%s ", v->name);
        write_hex(txt, request, size);
        fprintf(txt, " ");
        write_hex(txt, c->raw, c->raw_size);
        fprintf(txt, "\n");
        fprintf(md, "#### 5.%zu %s\n\n", i + 1, v->title);
        md_frame(md, "Request", request, size, v->request);
        md_frame(md, "Response", c->raw, c->raw_size, v->response);
        if (strcmp(v->name, "clear_events") == 0) { /* the unsolicited frame, in its place */
            fprintf(txt, "event_over_temperature - ");
            write_hex(txt, event, event_size);
            fprintf(txt, "\n");
        }
    }
    static const field event_fields[] = {
        {4, "sequence 2"}, {4, "uptime_seconds 0"}, {1, "type 1 over-temperature"}, {1, "reserved 0"},
        {2, "cabinet 1"}, {2, "value 850 (85.0 C)"}, {0, NULL}};
    fprintf(md, "#### 5.%zu EVENT: over-temperature, sent unsolicited at power-on\n\n", SCRIPT_COUNT + 1);
    md_frame(md, "Event frame", event, event_size, event_fields);
    harness_stop(&h);
    fclose(txt);
    fclose(md);
    return 0;
}

/* ---- the test ---- */

static int parse_hex(const char *text, uint8_t *out, size_t capacity, size_t *size)
{
    size_t n = strlen(text);
    if (n % 2 || n / 2 > capacity) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned value;
        if (sscanf(text + 2 * i, "%2x", &value) != 1) return -1;
        out[i] = (uint8_t)value;
    }
    *size = n / 2;
    return 0;
}

static void decode_one(void *context, const ls_frame *f)
{
    ls_frame *out = context;
    *out = *f;
    out->payload = NULL;
}

/* Decodes a whole vector frame; returns its header, or fails the test. */
static int decodes_exactly(const uint8_t *bytes, size_t size, ls_frame *frame)
{
    static ls_decoder d;
    ls_decoder_init(&d);
    frame->length = 0xFFFF;
    ls_decoder_feed(&d, bytes, size, 0, decode_one, frame);
    return frame->length != 0xFFFF && (size_t)frame->length + LS_MIN_FRAME == size && d.length == 0
               ? 0
               : -1;
}

TEST(vectors_file_matches_device)
{
    FILE *file = fopen(vectors_path, "r");
    CHECK(file != NULL);
    if (!file) return;
    static harness h;
    harness_start(&h, NULL, 1, vector_faults);
    uint8_t boot[LS_MAX_FRAME];
    size_t boot_size = 0;
    CHECK_EQ(boot_event(&h, boot, &boot_size), 0);
    static char line[8192];
    int vectors = 0;
    char seen[SCRIPT_COUNT + 1] = {0};
    while (fgets(line, sizeof line, file)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char name[64], request_hex[4200], response_hex[4200];
        if (sscanf(line, "%63s %4199s %4199s", name, request_hex, response_hex) != 3) {
            fprintf(stderr, "  bad vector line: %s", line);
            check_failures++;
            continue;
        }
        static uint8_t request[LS_MAX_FRAME], response[LS_MAX_FRAME];
        size_t request_size = 0, response_size = 0;
        CHECK_EQ(parse_hex(response_hex, response, sizeof response, &response_size), 0);
        ls_frame rs;
        CHECK_EQ(decodes_exactly(response, response_size, &rs), 0);
        CHECK(rs.flags & LS_FLAG_RESPONSE);
        vectors++;
        if (strcmp(request_hex, "-") == 0) { /* an unsolicited frame: the device sent it at boot */
            CHECK(rs.flags & LS_FLAG_EVENT);
            CHECK(boot_size == response_size && memcmp(boot, response, boot_size) == 0);
            continue;
        }
        CHECK_EQ(parse_hex(request_hex, request, sizeof request, &request_size), 0);
        ls_frame rq;
        CHECK_EQ(decodes_exactly(request, request_size, &rq), 0);
        for (size_t i = 0; i < SCRIPT_COUNT; i++) /* the file's request is the encoder's */
            if (strcmp(script[i].name, name) == 0) {
                uint8_t encoded[LS_MAX_FRAME];
                size_t n = encode_request(&script[i], encoded);
                CHECK(n == request_size && memcmp(encoded, request, n) == 0);
                seen[i] = 1;
            }
        const captured_frame *c = exchange(&h, request, request_size, rq.request_id, rq.command);
        CHECK(c != NULL);
        if (c && (c->raw_size != response_size || memcmp(c->raw, response, response_size) != 0)) {
            fprintf(stderr, "  vector %s: device answered %s\n", name, hex(c->raw, c->raw_size));
            check_failures++;
        }
    }
    fclose(file);
    for (size_t i = 0; i < SCRIPT_COUNT; i++)
        if (!seen[i]) {
            fprintf(stderr, "  vector %s missing from %s\n", script[i].name, vectors_path);
            check_failures++;
        }
    CHECK(vectors >= 12);
    harness_stop(&h);
}

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char text[1 << 20];
    *size = fread(text, 1, sizeof text - 1, f);
    text[*size] = '\0';
    fclose(f);
    return text;
}

TEST(protocol_doc_section_5_is_current)
{
    /* The Makefile names the page; regenerate the section and compare. */
    const char *doc = getenv("LS_PROTOCOL_DOC");
    CHECK(doc != NULL);
    if (!doc) return;
    CHECK_EQ(vectors_generate("build/vectors-check.txt", "build/vectors-check.md"), 0);
    static char expected[1 << 20];
    size_t size = 0, doc_size = 0;
    char *generated = read_all("build/vectors-check.md", &size);
    CHECK(generated != NULL);
    if (!generated) return;
    memcpy(expected, generated, size + 1);
    char *page = read_all(doc, &doc_size);
    CHECK(page != NULL);
    if (!page) return;
    char *section = strstr(page, "## 5. Test vectors\n");
    CHECK(section != NULL);
    if (section && strcmp(section, expected) != 0) {
        fprintf(stderr, "  %s section 5 differs from the generated vectors: run make -C Firmware vectors\n", doc);
        check_failures++;
    }
}
