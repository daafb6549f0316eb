/* Device model: a sending card driving a chain of cabinets (receiving cards), each with
 * modules of LEDs served by driver ICs; telemetry, parameters, the test pattern on show,
 * the event log, and the faults that break any of it. No OS calls, no heap. */
#ifndef LS_DEVICE_H
#define LS_DEVICE_H
#include <stddef.h>
#include <stdint.h>
#include "faults.h"

#ifndef LS_MAX_CABINETS
#define LS_MAX_CABINETS 256u
#endif
#ifndef LS_MAX_FAULTS
#define LS_MAX_FAULTS 256u
#endif
#ifndef LS_EVENT_LOG_SIZE
#define LS_EVENT_LOG_SIZE 128u
#endif
/* MODULE_TEST answers every module in one frame: 3 + 6 * 170 <= 1024. */
#define LS_MAX_MODULES_PER_CABINET 170u
#define LS_MAX_MODULE_SIDE 1024u
#define LS_MAX_STRING 64u

/* Thresholds of the reference firmware's monitor (events, section 4.9). */
#define LS_OVER_TEMPERATURE_DECICELSIUS 750
#define LS_SUPPLY_MIN_MV 4500u
#define LS_SUPPLY_MAX_MV 5500u
#define LS_FAN_STALL_RPM 300u

typedef struct ls_device ls_device;

typedef struct {
    ls_geometry geometry;
    uint64_t seed;
    const char *model;  /* NULL: "LS-SC400" */
    const char *serial; /* NULL: derived from the seed */
} ls_device_config;

typedef struct {
    int16_t temperature_decicelsius;
    uint16_t supply_millivolts;
    uint16_t fan_rpm;
    uint32_t runtime_hours;
    uint32_t power_cycles;
} ls_telemetry;

typedef struct {
    uint32_t sequence;
    uint32_t uptime_seconds;
    uint8_t type;
    uint16_t cabinet;
    int16_t value;
} ls_event;

typedef struct {
    uint8_t module;
    uint8_t result; /* LS_MT_* bits */
    uint16_t supply_millivolts;
    uint8_t driver_ics_expected;
    uint8_t driver_ics_found;
} ls_module_result;

typedef struct {
    uint8_t id;
    const char *name;
    int32_t min, max, fallback;
} ls_param_info;

const ls_geometry *ls_device_geometry(const ls_device *device);
uint32_t ls_device_cabinet_count(const ls_device *device);
const char *ls_device_model(const ls_device *device);
const char *ls_device_serial(const ls_device *device);
const char *ls_device_firmware(const ls_device *device);
const char *ls_device_hardware_revision(const ls_device *device);

/* Cabinet facts; 0 or -1 when the cabinet does not exist. */
int ls_device_cabinet_exists(const ls_device *device, uint32_t cabinet);
int ls_device_cabinet_online(const ls_device *device, uint32_t cabinet);
const char *ls_device_cabinet_serial(const ls_device *device, uint32_t cabinet);
const char *ls_device_cabinet_firmware(const ls_device *device, uint32_t cabinet);
const char *ls_device_cabinet_hardware_revision(const ls_device *device, uint32_t cabinet);
uint32_t ls_device_cabinet_calibration_checksum(const ls_device *device, uint32_t cabinet);
ls_telemetry ls_device_telemetry(const ls_device *device, uint32_t cabinet);

/* Electrical truth: the per-LED status byte of section 4.7 (cabinet-local x, y). */
uint8_t ls_device_led_status(const ls_device *device, uint32_t cabinet, uint32_t x, uint32_t y);

/* Optical truth: the light the LED emits now, per channel 0..255 (rgb[0] red), for the
 * pattern on show, brightness, and every fault (dead, stuck, dim, missing IC, dark modules). */
void ls_device_led_light(const ls_device *device, uint32_t cabinet, uint32_t x, uint32_t y,
                         uint8_t rgb[3]);

/* The whole wall as seen from the front: 3 bytes per LED, wall_height rows of `row_stride`
 * bytes (at least 3 * wall_width). Returns -1 if the buffer is too small. */
int ls_device_render(const ls_device *device, uint8_t *rgb, size_t row_stride, size_t size);
uint32_t ls_device_wall_width(const ls_device *device);
uint32_t ls_device_wall_height(const ls_device *device);

/* Self-test of one module (cabinet must exist and be online). */
ls_module_result ls_device_module_test(const ls_device *device, uint32_t cabinet, uint32_t module);

/* Parameters (section 4.4). */
const ls_param_info *ls_param_find(uint8_t id);
int32_t ls_device_param(const ls_device *device, uint8_t id);
/* Returns an LS_ST_* status: OK, UNKNOWN_PARAMETER or OUT_OF_RANGE. */
int ls_device_set_param(ls_device *device, uint8_t id, int32_t value);

/* Test patterns (section 4.5). Returns LS_ST_OK or LS_ST_BAD_ARGUMENT; *effective is the
 * argument in force (0 replaced by the pattern's default). */
int ls_device_show_pattern(ls_device *device, uint8_t pattern, uint16_t argument,
                           uint16_t *effective);
uint8_t ls_device_pattern(const ls_device *device, uint16_t *argument);
/* Changes whenever the light of the wall may have changed (pattern, parameters, boot), so a
 * host re-renders only then. */
uint32_t ls_device_display_version(const ls_device *device);

/* Event log. */
uint32_t ls_device_event_count(const ls_device *device);
/* The i-th stored event, oldest first. */
ls_event ls_device_event_at(const ls_device *device, uint32_t index);
uint32_t ls_device_clear_events(ls_device *device);
uint32_t ls_device_next_sequence(const ls_device *device);
void ls_device_log(ls_device *device, uint8_t type, uint16_t cabinet, int16_t value);

/* Time and power. now_ms is the emulated clock (monotonic, from the device's first boot). */
void ls_device_set_time(ls_device *device, uint64_t now_ms);
uint32_t ls_device_uptime_seconds(const ls_device *device);
/* Power-on: logs power loss, counts a power cycle, re-arms the monitor. */
void ls_device_boot(ls_device *device);
/* Checks temperature, supply and fans; logs an event when a condition first appears. */
void ls_device_monitor(ls_device *device);

#endif
