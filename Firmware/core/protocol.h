/* LEDSentry controller protocol v1: wire constants (Docs/controller-protocol.md). */
#ifndef LS_PROTOCOL_H
#define LS_PROTOCOL_H

#define LS_SOF1 0xA5u
#define LS_SOF2 0x5Au
#define LS_PROTOCOL_VERSION 1u
#define LS_MIN_VERSION 1u
#define LS_MAX_VERSION 1u

#define LS_HEADER_SIZE 10u          /* sof1 .. length */
#define LS_CRC_SIZE 4u
#define LS_MAX_PAYLOAD 1024u
#define LS_MIN_FRAME (LS_HEADER_SIZE + LS_CRC_SIZE)
#define LS_MAX_FRAME (LS_HEADER_SIZE + LS_MAX_PAYLOAD + LS_CRC_SIZE)
#define LS_FRAME_TIMEOUT_MS 100u    /* a frame must complete this soon after its first byte */

/* flags */
#define LS_FLAG_RESPONSE 0x01u
#define LS_FLAG_EVENT 0x02u
#define LS_FLAG_RETRY 0x04u
#define LS_FLAG_RESERVED 0xF8u

/* commands */
enum {
    LS_CMD_HELLO = 0x01,
    LS_CMD_IDENTIFY = 0x02,
    LS_CMD_CABINET_INFO = 0x03,
    LS_CMD_GET_PARAM = 0x04,
    LS_CMD_SET_PARAM = 0x05,
    LS_CMD_SHOW_PATTERN = 0x06,
    LS_CMD_MODULE_TEST = 0x07,
    LS_CMD_READ_LED_STATUS = 0x08,
    LS_CMD_READ_TELEMETRY = 0x09,
    LS_CMD_READ_EVENTS = 0x0A,
    LS_CMD_CLEAR_EVENTS = 0x0B,
    LS_CMD_REBOOT = 0x0C,
    LS_CMD_EVENT = 0x80
};

/* response status */
enum {
    LS_ST_OK = 0x00,
    LS_ST_UNKNOWN_COMMAND = 0x01,
    LS_ST_BAD_LENGTH = 0x02,
    LS_ST_OUT_OF_RANGE = 0x03,
    LS_ST_UNSUPPORTED_VERSION = 0x04,
    LS_ST_NOT_FOUND = 0x05,
    LS_ST_BUSY = 0x06,
    LS_ST_HARDWARE_FAULT = 0x07,
    LS_ST_READ_ONLY = 0x08,
    LS_ST_UNKNOWN_PARAMETER = 0x09,
    LS_ST_BAD_ARGUMENT = 0x0A
};

/* HELLO capabilities */
#define LS_CAP_EVENTS 0x01u
#define LS_CAP_LED_STATUS 0x02u
#define LS_CAP_TELEMETRY 0x04u

/* parameters (4.4) */
enum {
    LS_PARAM_BRIGHTNESS = 1,
    LS_PARAM_GAMMA = 2,
    LS_PARAM_REFRESH_RATE = 3,
    LS_PARAM_SCAN_MODE = 4,
    LS_PARAM_COLOUR_TEMPERATURE = 5,
    LS_PARAM_INPUT_SOURCE = 6,
    LS_PARAM_COUNT = 6
};

/* patterns (4.5) */
enum {
    LS_PATTERN_BLACK = 0,
    LS_PATTERN_RED = 1,
    LS_PATTERN_GREEN = 2,
    LS_PATTERN_BLUE = 3,
    LS_PATTERN_WHITE = 4,
    LS_PATTERN_GRADIENT = 5,
    LS_PATTERN_GRID = 6,
    LS_PATTERN_CHECKERBOARD = 7,
    LS_PATTERN_WALKING_PIXEL = 8,
    LS_PATTERN_VIDEO = 255
};

/* MODULE_TEST result bits (4.6) */
#define LS_MT_CHAIN 0x01u
#define LS_MT_SUPPLY 0x02u
#define LS_MT_DRIVERS 0x04u
#define LS_MT_CALIBRATION 0x08u
#define LS_MT_PASS 0x0Fu
#define LS_MT_RECORD_SIZE 6u

/* per-LED status byte (4.7) */
enum { LS_CH_OK = 0, LS_CH_OPEN = 1, LS_CH_SHORT = 2, LS_CH_WEAK = 3 };
#define LS_LED_NO_DATA 0x40u
#define LS_LED_STATUS_HEADER 10u    /* u16 cabinet, u32 total, u32 offset */
#define LS_LED_STATUS_MAX_CHUNK (LS_MAX_PAYLOAD - LS_LED_STATUS_HEADER)

/* events (4.9) */
enum {
    LS_EV_OVER_TEMPERATURE = 1,
    LS_EV_UNDER_VOLTAGE = 2,
    LS_EV_FAN_STALL = 3,
    LS_EV_LINK_ERROR = 4,
    LS_EV_POWER_LOSS = 5
};
#define LS_EVENT_RECORD_SIZE 14u /* the doc said 12; its fields add up to 14 */
#define LS_EVENT_MAX_COUNT 64u
#define LS_CABINET_SENDING_CARD 0xFFFFu

#define LS_RETRY_CACHE_ENTRIES 8u

#endif
