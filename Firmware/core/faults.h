/* Fault model: what is broken in the emulated wall, and the SPEC text form of each fault
 * (`dead-led cabinet=0 x=10 y=5 channel=red`, see Firmware/README.md). */
#ifndef LS_FAULTS_H
#define LS_FAULTS_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    LS_FAULT_DEAD_LED,             /* LEDs emit nothing on the channels: OPEN */
    LS_FAULT_STUCK_LED,            /* LEDs always fully on: SHORT */
    LS_FAULT_DIM_LED,              /* LEDs emit `level` percent: WEAK */
    LS_FAULT_DEAD_ROW,             /* dead-led over y, x0..x1 */
    LS_FAULT_DEAD_COLUMN,          /* dead-led over x, y0..y1 */
    LS_FAULT_DEAD_MODULE,          /* module answers nothing: NO_DATA, dark */
    LS_FAULT_CHAIN_BREAK,          /* modules after `module` get no data: NO_DATA, dark */
    LS_FAULT_MISSING_IC,           /* one driver IC absent: its channel OPEN, dark */
    LS_FAULT_CALIBRATION_MISMATCH, /* module calibration data differs from the factory checksum */
    LS_FAULT_OVER_TEMPERATURE,     /* cabinet temperature `value` deci-degrees C */
    LS_FAULT_UNDER_VOLTAGE,        /* cabinet supply `value` mV */
    LS_FAULT_FAN_STALL,            /* cabinet fan 0 rpm */
    LS_FAULT_CABINET_OFFLINE,      /* receiving card unreachable: HARDWARE_FAULT, dark */
    LS_FAULT_FLAKY_LINK,           /* host layer: drop / corrupt bytes (parts per million) */
    LS_FAULT_UNPLUG_AFTER,         /* host layer: hang up after `after_ms` */
    LS_FAULT_SLOW_RESPONSE,        /* host layer: delay responses by `value` ms */
    LS_FAULT_KIND_COUNT
} ls_fault_kind;

#define LS_CHANNEL_RED 0x01u
#define LS_CHANNEL_GREEN 0x02u
#define LS_CHANNEL_BLUE 0x04u
#define LS_CHANNEL_ALL 0x07u

typedef struct {
    ls_fault_kind kind;
    uint16_t cabinet;
    uint16_t x0, y0, x1, y1; /* cabinet-local LED rectangle, inclusive */
    uint8_t channels;        /* LS_CHANNEL_* mask */
    uint8_t level;           /* dim-led: percent of normal light */
    uint16_t module;         /* dead-module, calibration-mismatch, missing-ic; chain-break: `after` */
    uint16_t ic;             /* missing-ic */
    int32_t value;           /* over-temperature (deci-C), under-voltage (mV), slow-response (ms) */
    uint32_t after_ms;       /* onset for temperature / voltage / fan faults; unplug time */
    uint32_t drop_ppm, corrupt_ppm; /* flaky-link, per byte, parts per million */
} ls_fault;

/* Geometry the parser checks coordinates against. */
typedef struct {
    uint16_t cabinet_columns, cabinet_rows;
    uint8_t modules_x, modules_y;
    uint16_t module_width, module_height;
} ls_geometry;

static inline uint32_t ls_geometry_cabinets(const ls_geometry *g)
{
    return (uint32_t)g->cabinet_columns * g->cabinet_rows;
}
static inline uint32_t ls_geometry_cabinet_width(const ls_geometry *g)
{
    return (uint32_t)g->modules_x * g->module_width;
}
static inline uint32_t ls_geometry_cabinet_height(const ls_geometry *g)
{
    return (uint32_t)g->modules_y * g->module_height;
}
/* Driver ICs per module: one 16-output IC per colour channel per 16 columns. */
static inline uint32_t ls_geometry_ics_per_module(const ls_geometry *g)
{
    return 3u * (((uint32_t)g->module_width + 15u) / 16u);
}

/* Parses one SPEC into *fault. Returns 0, or -1 with a message naming the problem in error. */
int ls_fault_parse(const char *spec, const ls_geometry *geometry, ls_fault *fault, char *error,
                   size_t error_size);

const char *ls_fault_kind_name(ls_fault_kind kind);

#endif
