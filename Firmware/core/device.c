#include "device_private.h"
#include "crc32.h"
#include "rng.h"
#include <string.h>

static const ls_param_info params[LS_PARAM_COUNT] = {
    {LS_PARAM_BRIGHTNESS, "brightness", 0, 100, 80},
    {LS_PARAM_GAMMA, "gamma", 100, 400, 220},
    {LS_PARAM_REFRESH_RATE, "refresh_rate", 60, 7680, 3840},
    {LS_PARAM_SCAN_MODE, "scan_mode", 1, 32, 16},
    {LS_PARAM_COLOUR_TEMPERATURE, "colour_temperature", 2000, 10000, 6500},
    {LS_PARAM_INPUT_SOURCE, "input_source", 0, 4, 0},
};

static void copy_string(char *dst, const char *src, size_t capacity)
{
    size_t n = 0;
    while (src[n] && n + 1 < capacity) {
        dst[n] = src[n];
        n++;
    }
    dst[n] = '\0';
}

/* "PREFIX-" and 8 digits from the generator: stable for a seed. */
static void make_serial(char *dst, size_t capacity, const char *prefix, ls_rng *rng)
{
    uint32_t number = ls_rng_range(rng, 0, 99999999u);
    char digits[9];
    for (int i = 7; i >= 0; i--) {
        digits[i] = (char)('0' + number % 10u);
        number /= 10u;
    }
    digits[8] = '\0';
    copy_string(dst, prefix, capacity);
    size_t n = strlen(dst);
    copy_string(dst + n, digits, capacity - n);
}

/* Faults built by code rather than ls_fault_parse are checked here as well. */
static int fault_fits(const ls_fault *f, const ls_geometry *g)
{
    if (f->kind >= LS_FAULT_KIND_COUNT || f->cabinet >= ls_geometry_cabinets(g)) return 0;
    switch (f->kind) {
    case LS_FAULT_DEAD_LED:
    case LS_FAULT_STUCK_LED:
    case LS_FAULT_DIM_LED:
    case LS_FAULT_DEAD_ROW:
    case LS_FAULT_DEAD_COLUMN:
        return f->x0 <= f->x1 && f->y0 <= f->y1 && f->x1 < ls_geometry_cabinet_width(g) &&
               f->y1 < ls_geometry_cabinet_height(g) && f->level <= 100 && f->channels <= 7;
    case LS_FAULT_DEAD_MODULE:
    case LS_FAULT_CHAIN_BREAK:
    case LS_FAULT_CALIBRATION_MISMATCH:
        return f->module < (uint32_t)g->modules_x * g->modules_y;
    case LS_FAULT_MISSING_IC:
        return f->module < (uint32_t)g->modules_x * g->modules_y &&
               f->ic < ls_geometry_ics_per_module(g);
    default:
        return 1;
    }
}

static int fail(char *error, size_t size, const char *text)
{
    copy_string(error, text, size);
    return -1;
}

int ls_device_init(ls_device *d, const ls_device_config *config, const ls_fault *faults,
                   size_t fault_count, char *error, size_t error_size)
{
    const ls_geometry *g = &config->geometry;
    uint32_t cabinets = ls_geometry_cabinets(g);
    if (cabinets == 0 || cabinets > LS_MAX_CABINETS)
        return fail(error, error_size, "cabinet count must be 1..256");
    if (g->modules_x == 0 || g->modules_y == 0 ||
        (uint32_t)g->modules_x * g->modules_y > LS_MAX_MODULES_PER_CABINET)
        return fail(error, error_size, "modules per cabinet must be 1..170");
    if (g->module_width == 0 || g->module_height == 0 || g->module_width > LS_MAX_MODULE_SIDE ||
        g->module_height > LS_MAX_MODULE_SIDE)
        return fail(error, error_size, "module size must be 1..1024 LEDs per side");
    if (ls_geometry_cabinet_width(g) > 0xFFFFu || ls_geometry_cabinet_height(g) > 0xFFFFu)
        return fail(error, error_size, "a cabinet must be at most 65535 LEDs per side");
    if (ls_geometry_ics_per_module(g) > 255u)
        return fail(error, error_size, "module too wide: more than 255 driver ICs");
    if (fault_count > LS_MAX_FAULTS) return fail(error, error_size, "more than 256 faults");
    if (config->model && strlen(config->model) > LS_MAX_STRING)
        return fail(error, error_size, "model longer than 64 bytes");
    if (config->serial && strlen(config->serial) > LS_MAX_STRING)
        return fail(error, error_size, "serial longer than 64 bytes");
    for (size_t i = 0; i < fault_count; i++)
        if (!fault_fits(&faults[i], g))
            return fail(error, error_size, "a fault lies outside the wall (cabinet, LED, module or IC)");

    memset(d, 0, sizeof *d);
    d->geometry = *g;
    d->cabinet_count = cabinets;
    d->seed = config->seed;
    ls_rng rng = {config->seed};
    copy_string(d->model, config->model ? config->model : "LS-SC400", sizeof d->model);
    if (config->serial)
        copy_string(d->serial, config->serial, sizeof d->serial);
    else
        make_serial(d->serial, sizeof d->serial, "LSS-", &rng);
    for (uint32_t c = 0; c < cabinets; c++) {
        ls_cabinet *cab = &d->cabinets[c];
        make_serial(cab->serial, sizeof cab->serial, "LSC-", &rng);
        cab->temperature_decicelsius = (int16_t)ls_rng_range(&rng, 300, 400);
        cab->supply_millivolts = (uint16_t)ls_rng_range(&rng, 4950, 5050);
        cab->fan_rpm = (uint16_t)ls_rng_range(&rng, 2000, 2600);
        cab->runtime_hours = ls_rng_range(&rng, 500, 20000);
        /* The first boot below counts one more. */
        cab->power_cycles = ls_rng_range(&rng, 20, 2000) - 1u;
    }
    memcpy(d->faults, faults, fault_count * sizeof *faults);
    d->fault_count = (uint32_t)fault_count;
    for (size_t i = 0; i < LS_PARAM_COUNT; i++) d->params[params[i].id] = params[i].fallback;
    d->pattern = LS_PATTERN_VIDEO;
    d->next_sequence = 1;
    return 0;
}

/* ---- identity ---- */

const ls_geometry *ls_device_geometry(const ls_device *d) { return &d->geometry; }
uint32_t ls_device_cabinet_count(const ls_device *d) { return d->cabinet_count; }
const char *ls_device_model(const ls_device *d) { return d->model; }
const char *ls_device_serial(const ls_device *d) { return d->serial; }
const char *ls_device_firmware(const ls_device *d) { return (void)d, "1.4.2"; }
const char *ls_device_hardware_revision(const ls_device *d) { return (void)d, "C"; }

int ls_device_cabinet_exists(const ls_device *d, uint32_t cabinet)
{
    return cabinet < d->cabinet_count;
}

static int fault_active(const ls_device *d, const ls_fault *f) { return d->now_ms >= f->after_ms; }

/* The last active fault of `kind` on `cabinet`, or NULL. */
static const ls_fault *cabinet_fault(const ls_device *d, uint32_t cabinet, ls_fault_kind kind)
{
    const ls_fault *found = NULL;
    for (uint32_t i = 0; i < d->fault_count; i++) {
        const ls_fault *f = &d->faults[i];
        if (f->kind == kind && f->cabinet == cabinet && fault_active(d, f)) found = f;
    }
    return found;
}

int ls_device_cabinet_online(const ls_device *d, uint32_t cabinet)
{
    return ls_device_cabinet_exists(d, cabinet) &&
           !cabinet_fault(d, cabinet, LS_FAULT_CABINET_OFFLINE);
}

const char *ls_device_cabinet_serial(const ls_device *d, uint32_t cabinet)
{
    return d->cabinets[cabinet].serial;
}
const char *ls_device_cabinet_firmware(const ls_device *d, uint32_t cabinet)
{
    return (void)d, (void)cabinet, "2.1.0";
}
const char *ls_device_cabinet_hardware_revision(const ls_device *d, uint32_t cabinet)
{
    return (void)d, (void)cabinet, "B";
}

/* Calibration data is not stored; its checksum is derived from seed, cabinet and module. */
static uint32_t module_calibration_checksum(const ls_device *d, uint32_t cabinet, uint32_t module)
{
    uint8_t key[16];
    for (int i = 0; i < 8; i++) key[i] = (uint8_t)(d->seed >> (8 * i));
    for (int i = 0; i < 4; i++) key[8 + i] = (uint8_t)(cabinet >> (8 * i));
    for (int i = 0; i < 4; i++) key[12 + i] = (uint8_t)(module >> (8 * i));
    return ls_crc32(0, key, sizeof key);
}

uint32_t ls_device_cabinet_calibration_checksum(const ls_device *d, uint32_t cabinet)
{
    uint32_t crc = 0;
    uint32_t modules = (uint32_t)d->geometry.modules_x * d->geometry.modules_y;
    for (uint32_t m = 0; m < modules; m++) {
        uint32_t sum = module_calibration_checksum(d, cabinet, m);
        uint8_t bytes[4] = {(uint8_t)sum, (uint8_t)(sum >> 8), (uint8_t)(sum >> 16),
                            (uint8_t)(sum >> 24)};
        crc = ls_crc32(crc, bytes, 4);
    }
    return crc;
}

/* ---- telemetry ---- */

ls_telemetry ls_device_telemetry(const ls_device *d, uint32_t cabinet)
{
    const ls_cabinet *cab = &d->cabinets[cabinet];
    ls_telemetry t = {cab->temperature_decicelsius, cab->supply_millivolts, cab->fan_rpm,
                      cab->runtime_hours + (uint32_t)(d->now_ms / 3600000u), cab->power_cycles};
    const ls_fault *f;
    if ((f = cabinet_fault(d, cabinet, LS_FAULT_OVER_TEMPERATURE)) != NULL)
        t.temperature_decicelsius = (int16_t)f->value;
    if ((f = cabinet_fault(d, cabinet, LS_FAULT_UNDER_VOLTAGE)) != NULL)
        t.supply_millivolts = (uint16_t)f->value;
    if (cabinet_fault(d, cabinet, LS_FAULT_FAN_STALL)) t.fan_rpm = 0;
    return t;
}

/* ---- LEDs: electrical and optical truth ---- */

static uint32_t module_of(const ls_geometry *g, uint32_t x, uint32_t y)
{
    return (y / g->module_height) * g->modules_x + x / g->module_width;
}

/* Whether module data reaches the module (dead module, chain break, offline cabinet). */
static int module_has_data(const ls_device *d, uint32_t cabinet, uint32_t module)
{
    for (uint32_t i = 0; i < d->fault_count; i++) {
        const ls_fault *f = &d->faults[i];
        if (f->cabinet != cabinet) continue;
        if (f->kind == LS_FAULT_DEAD_MODULE && f->module == module) return 0;
        if (f->kind == LS_FAULT_CHAIN_BREAK && module > f->module) return 0;
        if (f->kind == LS_FAULT_CABINET_OFFLINE) return 0;
    }
    return 1;
}

/* Per-channel state (LS_CH_*) and dim level of one LED; returns 0 when it has no data. */
static int led_state(const ls_device *d, uint32_t cabinet, uint32_t x, uint32_t y,
                     uint8_t state[3], uint8_t level[3])
{
    const ls_geometry *g = &d->geometry;
    uint32_t module = module_of(g, x, y);
    state[0] = state[1] = state[2] = LS_CH_OK;
    level[0] = level[1] = level[2] = 100;
    if (!module_has_data(d, cabinet, module)) return 0;
    for (uint32_t i = 0; i < d->fault_count; i++) {
        const ls_fault *f = &d->faults[i];
        if (f->cabinet != cabinet) continue;
        uint8_t channels = f->channels, new_state;
        switch (f->kind) {
        case LS_FAULT_DEAD_LED:
        case LS_FAULT_DEAD_ROW:
        case LS_FAULT_DEAD_COLUMN:
            new_state = LS_CH_OPEN;
            break;
        case LS_FAULT_STUCK_LED:
            new_state = LS_CH_SHORT;
            break;
        case LS_FAULT_DIM_LED:
            new_state = LS_CH_WEAK;
            break;
        case LS_FAULT_MISSING_IC: {
            /* IC i drives channel i % 3 of the 16 module columns starting at (i / 3) * 16. */
            uint32_t column = (x % g->module_width) / 16u;
            if (f->module != module || f->ic / 3u != column) continue;
            state[f->ic % 3u] = LS_CH_OPEN;
            continue;
        }
        default:
            continue;
        }
        if (x < f->x0 || x > f->x1 || y < f->y0 || y > f->y1) continue;
        for (int c = 0; c < 3; c++)
            if (channels & (1u << c)) {
                state[c] = new_state;
                level[c] = f->kind == LS_FAULT_DIM_LED ? f->level : 100;
            }
    }
    return 1;
}

uint8_t ls_device_led_status(const ls_device *d, uint32_t cabinet, uint32_t x, uint32_t y)
{
    uint8_t state[3], level[3];
    if (!led_state(d, cabinet, x, y, state, level)) return LS_LED_NO_DATA;
    return (uint8_t)(state[0] | (state[1] << 2) | (state[2] << 4));
}

uint32_t ls_device_wall_width(const ls_device *d)
{
    return d->geometry.cabinet_columns * ls_geometry_cabinet_width(&d->geometry);
}
uint32_t ls_device_wall_height(const ls_device *d)
{
    return d->geometry.cabinet_rows * ls_geometry_cabinet_height(&d->geometry);
}

/* Drive level 0..255 the pattern asks of channel c at wall position (wx, wy). */
static uint8_t pattern_level(const ls_device *d, uint32_t wx, uint32_t wy, int c)
{
    uint32_t width = ls_device_wall_width(d), n = d->pattern_argument;
    switch (d->pattern) {
    case LS_PATTERN_RED:
    case LS_PATTERN_GREEN:
    case LS_PATTERN_BLUE:
        return c == d->pattern - LS_PATTERN_RED ? 255 : 0;
    case LS_PATTERN_WHITE:
        return 255;
    case LS_PATTERN_GRADIENT:
        return width < 2 ? 255 : (uint8_t)(wx * 255u / (width - 1u));
    case LS_PATTERN_GRID:
        return (wx % n == 0 || wy % n == 0) ? 255 : 0;
    case LS_PATTERN_CHECKERBOARD:
        return ((wx / n + wy / n) % 2u == 0) ? 255 : 0;
    case LS_PATTERN_WALKING_PIXEL:
        return wy * width + wx == n ? 255 : 0;
    default: /* black; normal video: the emulator has no video source, so black too */
        return 0;
    }
}

void ls_device_led_light(const ls_device *d, uint32_t cabinet, uint32_t x, uint32_t y,
                         uint8_t rgb[3])
{
    uint8_t state[3], level[3];
    rgb[0] = rgb[1] = rgb[2] = 0;
    if (!led_state(d, cabinet, x, y, state, level)) return; /* a module without data is dark */
    const ls_geometry *g = &d->geometry;
    uint32_t wx = (cabinet % g->cabinet_columns) * ls_geometry_cabinet_width(g) + x;
    uint32_t wy = (cabinet / g->cabinet_columns) * ls_geometry_cabinet_height(g) + y;
    uint32_t brightness = (uint32_t)d->params[LS_PARAM_BRIGHTNESS];
    for (int c = 0; c < 3; c++) {
        uint32_t light = pattern_level(d, wx, wy, c) * brightness / 100u;
        switch (state[c]) {
        case LS_CH_OPEN:
            light = 0;
            break;
        case LS_CH_SHORT: /* a shorted driver output bypasses PWM: full on, always */
            light = 255;
            break;
        case LS_CH_WEAK:
            light = light * level[c] / 100u;
            break;
        default:
            break;
        }
        rgb[c] = (uint8_t)light;
    }
}

int ls_device_render(const ls_device *d, uint8_t *rgb, size_t row_stride, size_t size)
{
    const ls_geometry *g = &d->geometry;
    uint32_t width = ls_device_wall_width(d), height = ls_device_wall_height(d);
    uint32_t cw = ls_geometry_cabinet_width(g), ch = ls_geometry_cabinet_height(g);
    if (row_stride < 3u * (size_t)width || size < row_stride * (height - 1u) + 3u * width)
        return -1;
    for (uint32_t wy = 0; wy < height; wy++)
        for (uint32_t wx = 0; wx < width; wx++)
            ls_device_led_light(d, (wy / ch) * g->cabinet_columns + wx / cw, wx % cw, wy % ch,
                                rgb + wy * row_stride + 3u * wx);
    return 0;
}

/* ---- module self-test ---- */

ls_module_result ls_device_module_test(const ls_device *d, uint32_t cabinet, uint32_t module)
{
    uint32_t expected = ls_geometry_ics_per_module(&d->geometry);
    ls_module_result r = {(uint8_t)module, 0, 0, (uint8_t)expected, 0};
    if (!module_has_data(d, cabinet, module)) return r; /* nothing answers: every check fails */
    uint32_t supply = ls_device_telemetry(d, cabinet).supply_millivolts;
    /* Modules further down the power bus see a little less. */
    r.supply_millivolts = (uint16_t)(supply - (module % 5u) * 6u);
    r.result = LS_MT_CHAIN;
    if (r.supply_millivolts >= LS_SUPPLY_MIN_MV && r.supply_millivolts <= LS_SUPPLY_MAX_MV)
        r.result |= LS_MT_SUPPLY;
    uint8_t missing[256] = {0};
    uint32_t found = expected;
    int calibrated = 1;
    for (uint32_t i = 0; i < d->fault_count; i++) {
        const ls_fault *f = &d->faults[i];
        if (f->cabinet != cabinet || f->module != module) continue;
        if (f->kind == LS_FAULT_MISSING_IC && !missing[f->ic]) {
            missing[f->ic] = 1;
            found--;
        }
        if (f->kind == LS_FAULT_CALIBRATION_MISMATCH) calibrated = 0;
    }
    r.driver_ics_found = (uint8_t)found;
    if (found == expected) r.result |= LS_MT_DRIVERS;
    if (calibrated) r.result |= LS_MT_CALIBRATION;
    return r;
}

/* ---- parameters and patterns ---- */

const ls_param_info *ls_param_find(uint8_t id)
{
    for (size_t i = 0; i < LS_PARAM_COUNT; i++)
        if (params[i].id == id) return &params[i];
    return NULL;
}

int32_t ls_device_param(const ls_device *d, uint8_t id)
{
    return ls_param_find(id) ? d->params[id] : 0;
}

int ls_device_set_param(ls_device *d, uint8_t id, int32_t value)
{
    const ls_param_info *p = ls_param_find(id);
    if (!p) return LS_ST_UNKNOWN_PARAMETER;
    if (value < p->min || value > p->max) return LS_ST_OUT_OF_RANGE;
    if (id == LS_PARAM_SCAN_MODE && (value & (value - 1)) != 0) return LS_ST_OUT_OF_RANGE;
    d->params[id] = value;
    d->display_version++;
    return LS_ST_OK;
}

int ls_device_show_pattern(ls_device *d, uint8_t pattern, uint16_t argument, uint16_t *effective)
{
    switch (pattern) {
    case LS_PATTERN_GRID:
        if (argument == 0) argument = 8;
        break;
    case LS_PATTERN_CHECKERBOARD:
        if (argument == 0) argument = 1;
        break;
    case LS_PATTERN_WALKING_PIXEL:
        if ((uint64_t)argument >= (uint64_t)ls_device_wall_width(d) * ls_device_wall_height(d))
            return LS_ST_BAD_ARGUMENT;
        break;
    case LS_PATTERN_BLACK:
    case LS_PATTERN_RED:
    case LS_PATTERN_GREEN:
    case LS_PATTERN_BLUE:
    case LS_PATTERN_WHITE:
    case LS_PATTERN_GRADIENT:
    case LS_PATTERN_VIDEO:
        if (argument != 0) return LS_ST_BAD_ARGUMENT;
        break;
    default:
        return LS_ST_BAD_ARGUMENT;
    }
    d->display_version++;
    d->pattern = pattern;
    d->pattern_argument = argument;
    *effective = argument;
    return LS_ST_OK;
}

uint32_t ls_device_display_version(const ls_device *d) { return d->display_version; }

uint8_t ls_device_pattern(const ls_device *d, uint16_t *argument)
{
    if (argument) *argument = d->pattern_argument;
    return d->pattern;
}

/* ---- event log: a ring of the newest LS_EVENT_LOG_SIZE events ---- */

uint32_t ls_device_event_count(const ls_device *d) { return d->event_count; }
uint32_t ls_device_next_sequence(const ls_device *d) { return d->next_sequence; }

ls_event ls_device_event_at(const ls_device *d, uint32_t index)
{
    return d->events[(d->event_start + index) % LS_EVENT_LOG_SIZE];
}

uint32_t ls_device_clear_events(ls_device *d)
{
    uint32_t cleared = d->event_count;
    d->event_start = d->event_count = 0;
    return cleared; /* sequence numbers carry on: they never repeat until power-off */
}

void ls_device_log(ls_device *d, uint8_t type, uint16_t cabinet, int16_t value)
{
    ls_event e = {d->next_sequence++, ls_device_uptime_seconds(d), type, cabinet, value};
    if (d->event_count == LS_EVENT_LOG_SIZE) {
        d->event_start = (d->event_start + 1u) % LS_EVENT_LOG_SIZE;
        d->event_count--;
    }
    d->events[(d->event_start + d->event_count++) % LS_EVENT_LOG_SIZE] = e;
}

/* ---- time, power, monitor ---- */

void ls_device_set_time(ls_device *d, uint64_t now_ms)
{
    if (now_ms > d->now_ms) d->now_ms = now_ms;
}

uint32_t ls_device_uptime_seconds(const ls_device *d)
{
    return (uint32_t)((d->now_ms - d->boot_ms) / 1000u);
}

void ls_device_boot(ls_device *d)
{
    d->boot_ms = d->now_ms;
    d->display_version++;
    d->pattern = LS_PATTERN_VIDEO;
    d->pattern_argument = 0;
    for (uint32_t c = 0; c < d->cabinet_count; c++) {
        d->cabinets[c].power_cycles++;
        d->cabinets[c].alarms = 0;
    }
    ls_device_log(d, LS_EV_POWER_LOSS, LS_CABINET_SENDING_CARD, 0);
    ls_device_monitor(d);
}

static void raise_alarm(ls_device *d, uint32_t cabinet, int condition, uint8_t type, int32_t value)
{
    uint8_t bit = (uint8_t)(1u << type);
    ls_cabinet *cab = &d->cabinets[cabinet];
    if (!condition) {
        cab->alarms &= (uint8_t)~bit;
    } else if (!(cab->alarms & bit)) {
        cab->alarms |= bit;
        ls_device_log(d, type, (uint16_t)cabinet, (int16_t)value);
    }
}

void ls_device_monitor(ls_device *d)
{
    for (uint32_t c = 0; c < d->cabinet_count; c++) {
        if (!ls_device_cabinet_online(d, c)) continue;
        ls_telemetry t = ls_device_telemetry(d, c);
        raise_alarm(d, c, t.temperature_decicelsius >= LS_OVER_TEMPERATURE_DECICELSIUS,
                    LS_EV_OVER_TEMPERATURE, t.temperature_decicelsius);
        raise_alarm(d, c, t.supply_millivolts < LS_SUPPLY_MIN_MV, LS_EV_UNDER_VOLTAGE,
                    t.supply_millivolts / 10);
        raise_alarm(d, c, t.fan_rpm < LS_FAN_STALL_RPM, LS_EV_FAN_STALL, t.fan_rpm);
    }
}
