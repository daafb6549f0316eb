/* RDM wire format (E1.20 section 6 and 7.5). */
#include "rdm.h"

#include <string.h>

int rdm_uid_equal(rdm_uid a, rdm_uid b)
{
    return a.manufacturer == b.manufacturer && a.device == b.device;
}

uint64_t rdm_uid_to_u64(rdm_uid uid)
{
    return ((uint64_t)uid.manufacturer << 32) | uid.device;
}

rdm_uid rdm_uid_from_u64(uint64_t value)
{
    rdm_uid uid;
    uid.manufacturer = (uint16_t)(value >> 32);
    uid.device = (uint32_t)value;
    return uid;
}

int rdm_uid_compare(rdm_uid a, rdm_uid b)
{
    uint64_t x = rdm_uid_to_u64(a), y = rdm_uid_to_u64(b);
    return x < y ? -1 : (x > y ? 1 : 0);
}

int rdm_uid_is_broadcast(rdm_uid uid)
{
    return uid.device == 0xFFFFFFFFu;
}

int rdm_uid_addresses(rdm_uid destination, rdm_uid self)
{
    if (rdm_uid_equal(destination, self))
        return 1;
    if (destination.device != 0xFFFFFFFFu)
        return 0;
    return destination.manufacturer == 0xFFFF || destination.manufacturer == self.manufacturer;
}

uint16_t rdm_checksum(const uint8_t *bytes, size_t count)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += bytes[i];
    return (uint16_t)sum;
}

static rdm_uid read_uid(const uint8_t *p)
{
    rdm_uid uid;
    uid.manufacturer = rdm_get16(p);
    uid.device = rdm_get32(p + 2);
    return uid;
}

static void write_uid(uint8_t *p, rdm_uid uid)
{
    rdm_put16(p, uid.manufacturer);
    rdm_put32(p + 2, uid.device);
}

rdm_status rdm_parse(const uint8_t *bytes, size_t count, rdm_packet *out)
{
    if (count < 2)
        return RDM_ERR_TRUNCATED;
    if (bytes[0] != RDM_START_CODE || bytes[1] != RDM_SUB_START_CODE)
        return RDM_ERR_START_CODE;
    if (count < RDM_HEADER_SIZE + 2)
        return RDM_ERR_TRUNCATED;
    size_t message_length = bytes[2];
    uint8_t pdl = bytes[23];
    if (message_length < RDM_HEADER_SIZE || message_length != (size_t)RDM_HEADER_SIZE + pdl)
        return RDM_ERR_LENGTH;
    if (count < message_length + 2)
        return RDM_ERR_TRUNCATED;
    uint16_t expected = rdm_checksum(bytes, message_length);
    if (rdm_get16(bytes + message_length) != expected)
        return RDM_ERR_CHECKSUM;
    out->destination = read_uid(bytes + 3);
    out->source = read_uid(bytes + 9);
    out->transaction = bytes[15];
    out->port_or_response = bytes[16];
    out->message_count = bytes[17];
    out->sub_device = rdm_get16(bytes + 18);
    out->command_class = bytes[20];
    out->pid = rdm_get16(bytes + 21);
    out->pdl = pdl;
    memcpy(out->data, bytes + RDM_HEADER_SIZE, pdl);
    return RDM_OK;
}

rdm_status rdm_serialize(const rdm_packet *packet, uint8_t *out, size_t capacity,
                         size_t *written)
{
    size_t message_length = (size_t)RDM_HEADER_SIZE + packet->pdl;
    if (packet->pdl > RDM_MAX_PDL)
        return RDM_ERR_LENGTH;
    if (capacity < message_length + 2)
        return RDM_ERR_NO_SPACE;
    out[0] = RDM_START_CODE;
    out[1] = RDM_SUB_START_CODE;
    out[2] = (uint8_t)message_length;
    write_uid(out + 3, packet->destination);
    write_uid(out + 9, packet->source);
    out[15] = packet->transaction;
    out[16] = packet->port_or_response;
    out[17] = packet->message_count;
    rdm_put16(out + 18, packet->sub_device);
    out[20] = packet->command_class;
    rdm_put16(out + 21, packet->pid);
    out[23] = packet->pdl;
    memcpy(out + RDM_HEADER_SIZE, packet->data, packet->pdl);
    rdm_put16(out + message_length, rdm_checksum(out, message_length));
    *written = message_length + 2;
    return RDM_OK;
}

void rdm_encode_dub_response(rdm_uid uid, uint8_t out[RDM_DUB_RESPONSE_SIZE])
{
    uint8_t raw[6];
    write_uid(raw, uid);
    memset(out, 0xFE, 7);
    out[7] = 0xAA;
    uint16_t sum = 0;
    for (int i = 0; i < 6; i++) {
        out[8 + 2 * i] = raw[i] | 0xAA;
        out[9 + 2 * i] = raw[i] | 0x55;
        sum = (uint16_t)(sum + out[8 + 2 * i] + out[9 + 2 * i]);
    }
    out[20] = (uint8_t)((sum >> 8) | 0xAA);
    out[21] = (uint8_t)((sum >> 8) | 0x55);
    out[22] = (uint8_t)((sum & 0xFF) | 0xAA);
    out[23] = (uint8_t)((sum & 0xFF) | 0x55);
}

rdm_status rdm_decode_dub_response(const uint8_t *bytes, size_t count, rdm_uid *out)
{
    size_t i = 0;
    while (i < count && i < 7 && bytes[i] == 0xFE)
        i++;
    if (i >= count || bytes[i] != 0xAA)
        return count - i < 17 ? RDM_ERR_TRUNCATED : RDM_ERR_START_CODE;
    i++;
    if (count - i < 16)
        return RDM_ERR_TRUNCATED;
    const uint8_t *e = bytes + i;
    uint8_t raw[8];
    uint16_t sum = 0;
    for (int k = 0; k < 8; k++) {
        if ((e[2 * k] & 0xAA) != 0xAA || (e[2 * k + 1] & 0x55) != 0x55)
            return RDM_ERR_CHECKSUM;
        raw[k] = e[2 * k] & e[2 * k + 1];
        if (k < 6)
            sum = (uint16_t)(sum + e[2 * k] + e[2 * k + 1]);
    }
    if (rdm_get16(raw + 6) != sum)
        return RDM_ERR_CHECKSUM;
    *out = read_uid(raw);
    return RDM_OK;
}
