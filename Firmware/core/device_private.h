/* The device model's storage; only core/ looks inside (everyone else uses device.h). */
#ifndef LS_DEVICE_PRIVATE_H
#define LS_DEVICE_PRIVATE_H
#include "device.h"
#include "protocol.h"

typedef struct {
    char serial[20];
    int16_t temperature_decicelsius;
    uint16_t supply_millivolts;
    uint16_t fan_rpm;
    uint32_t runtime_hours;
    uint32_t power_cycles;
    uint8_t alarms; /* conditions already logged since boot, bit = event type */
} ls_cabinet;

struct ls_device {
    ls_geometry geometry;
    uint32_t cabinet_count;
    uint64_t seed;
    char model[LS_MAX_STRING + 1];
    char serial[LS_MAX_STRING + 1];
    ls_cabinet cabinets[LS_MAX_CABINETS];
    ls_fault faults[LS_MAX_FAULTS];
    uint32_t fault_count;
    int32_t params[LS_PARAM_COUNT + 1];
    uint8_t pattern;
    uint16_t pattern_argument;
    ls_event events[LS_EVENT_LOG_SIZE];
    uint32_t event_start, event_count, next_sequence;
    uint64_t now_ms, boot_ms;
    uint32_t display_version; /* changes whenever what the wall shows may have changed */
};

/* Checks the configuration and faults; returns 0 or -1 with a message. Does not boot. */
int ls_device_init(ls_device *device, const ls_device_config *config, const ls_fault *faults,
                   size_t fault_count, char *error, size_t error_size);

#endif
