/* RDM (ANSI E1.20) wire format: UIDs, packets, checksums, discovery responses.
 * Portable C99, no OS calls, no allocation. */
#ifndef LEDSENTRY_RDM_H
#define LEDSENTRY_RDM_H

#include <stddef.h>
#include <stdint.h>

#define RDM_START_CODE 0xCC
#define RDM_SUB_START_CODE 0x01
#define RDM_HEADER_SIZE 24           /* start code .. PDL */
#define RDM_MAX_PDL 231
#define RDM_MAX_FRAME (RDM_HEADER_SIZE + RDM_MAX_PDL + 2)
#define RDM_DUB_RESPONSE_SIZE 24     /* 7 x FE, AA, 12 encoded UID, 4 encoded checksum */

/* Command classes (E1.20 table A-1). */
enum rdm_command_class {
    RDM_DISCOVERY_COMMAND = 0x10,
    RDM_DISCOVERY_COMMAND_RESPONSE = 0x11,
    RDM_GET_COMMAND = 0x20,
    RDM_GET_COMMAND_RESPONSE = 0x21,
    RDM_SET_COMMAND = 0x30,
    RDM_SET_COMMAND_RESPONSE = 0x31
};

/* Response types (table A-2). */
enum rdm_response_type {
    RDM_ACK = 0x00,
    RDM_ACK_TIMER = 0x01,
    RDM_NACK_REASON = 0x02,
    RDM_ACK_OVERFLOW = 0x03
};

/* NACK reason codes (table A-17). */
enum rdm_nack_reason {
    RDM_NR_UNKNOWN_PID = 0x0000,
    RDM_NR_FORMAT_ERROR = 0x0001,
    RDM_NR_HARDWARE_FAULT = 0x0002,
    RDM_NR_PROXY_REJECT = 0x0003,
    RDM_NR_WRITE_PROTECT = 0x0004,
    RDM_NR_UNSUPPORTED_COMMAND_CLASS = 0x0005,
    RDM_NR_DATA_OUT_OF_RANGE = 0x0006,
    RDM_NR_BUFFER_FULL = 0x0007,
    RDM_NR_PACKET_SIZE_UNSUPPORTED = 0x0008,
    RDM_NR_SUB_DEVICE_OUT_OF_RANGE = 0x0009,
    RDM_NR_PROXY_BUFFER_FULL = 0x000A
};

/* Parameter IDs this project uses (table A-3). */
enum rdm_pid {
    RDM_PID_DISC_UNIQUE_BRANCH = 0x0001,
    RDM_PID_DISC_MUTE = 0x0002,
    RDM_PID_DISC_UN_MUTE = 0x0003,
    RDM_PID_QUEUED_MESSAGE = 0x0020,
    RDM_PID_STATUS_MESSAGES = 0x0030,
    RDM_PID_SUPPORTED_PARAMETERS = 0x0050,
    RDM_PID_DEVICE_INFO = 0x0060,
    RDM_PID_DEVICE_MODEL_DESCRIPTION = 0x0080,
    RDM_PID_MANUFACTURER_LABEL = 0x0081,
    RDM_PID_DEVICE_LABEL = 0x0082,
    RDM_PID_SOFTWARE_VERSION_LABEL = 0x00C0,
    RDM_PID_DMX_PERSONALITY = 0x00E0,
    RDM_PID_DMX_PERSONALITY_DESCRIPTION = 0x00E1,
    RDM_PID_DMX_START_ADDRESS = 0x00F0,
    RDM_PID_SENSOR_DEFINITION = 0x0200,
    RDM_PID_SENSOR_VALUE = 0x0201,
    RDM_PID_DEVICE_HOURS = 0x0400,
    RDM_PID_LAMP_HOURS = 0x0401,
    RDM_PID_LAMP_STRIKES = 0x0402,
    RDM_PID_LAMP_STATE = 0x0403,
    RDM_PID_DEVICE_POWER_CYCLES = 0x0405,
    RDM_PID_IDENTIFY_DEVICE = 0x1000,
    RDM_PID_RESET_DEVICE = 0x1001,
    RDM_PID_PERFORM_SELFTEST = 0x1020,
    RDM_PID_SELF_TEST_DESCRIPTION = 0x1021
};

/* Status types (table A-4). */
enum rdm_status_type {
    RDM_STATUS_NONE = 0x00,
    RDM_STATUS_GET_LAST_MESSAGE = 0x01,
    RDM_STATUS_ADVISORY = 0x02,
    RDM_STATUS_WARNING = 0x03,
    RDM_STATUS_ERROR = 0x04
};

/* A 48-bit UID: 16-bit ESTA manufacturer id and 32-bit device id. */
typedef struct {
    uint16_t manufacturer;
    uint32_t device;
} rdm_uid;

/* One RDM message, start code through checksum, decoded. */
typedef struct {
    rdm_uid destination;
    rdm_uid source;
    uint8_t transaction;
    uint8_t port_or_response; /* port id in requests, response type in responses */
    uint8_t message_count;
    uint16_t sub_device;
    uint8_t command_class;
    uint16_t pid;
    uint8_t pdl;
    uint8_t data[RDM_MAX_PDL];
} rdm_packet;

typedef enum {
    RDM_OK = 0,
    RDM_ERR_TRUNCATED,      /* fewer bytes than the header and message length say */
    RDM_ERR_START_CODE,     /* not 0xCC 0x01 */
    RDM_ERR_LENGTH,         /* message length field inconsistent with PDL or buffer */
    RDM_ERR_CHECKSUM,       /* checksum mismatch */
    RDM_ERR_NO_SPACE        /* output buffer too small */
} rdm_status;

int rdm_uid_equal(rdm_uid a, rdm_uid b);
int rdm_uid_compare(rdm_uid a, rdm_uid b);       /* <0, 0, >0 */
uint64_t rdm_uid_to_u64(rdm_uid uid);
rdm_uid rdm_uid_from_u64(uint64_t value);
/* True for FFFF:FFFFFFFF and for MMMM:FFFFFFFF (a manufacturer's broadcast). */
int rdm_uid_is_broadcast(rdm_uid uid);
/* True when a packet sent to `destination` must be processed by `self`. */
int rdm_uid_addresses(rdm_uid destination, rdm_uid self);

/* Sum of bytes, mod 2^16 (the RDM checksum). */
uint16_t rdm_checksum(const uint8_t *bytes, size_t count);

/* Decodes `count` bytes that start with the start code. Trailing bytes are ignored
 * (the widget hands over whole frames; anything after the checksum is not ours). */
rdm_status rdm_parse(const uint8_t *bytes, size_t count, rdm_packet *out);
/* Encodes a packet (computing the message length and checksum); sets *written. */
rdm_status rdm_serialize(const rdm_packet *packet, uint8_t *out, size_t capacity,
                         size_t *written);

/* The 24-byte DISC_UNIQUE_BRANCH response for `uid` (E1.20 section 7.5). */
void rdm_encode_dub_response(rdm_uid uid, uint8_t out[RDM_DUB_RESPONSE_SIZE]);
/* Decodes a DUB response (0..7 preamble bytes, 0xAA, 16 bytes); RDM_ERR_CHECKSUM on a
 * collision or corruption. */
rdm_status rdm_decode_dub_response(const uint8_t *bytes, size_t count, rdm_uid *out);

/* Big-endian helpers. */
static inline uint16_t rdm_get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t rdm_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void rdm_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void rdm_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
