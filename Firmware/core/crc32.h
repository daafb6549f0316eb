/* CRC-32/ISO-HDLC (Ethernet, zlib, PNG): poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF. */
#ifndef LS_CRC32_H
#define LS_CRC32_H
#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0; ls_crc32(0, "123456789", 9) == 0xCBF43926. */
uint32_t ls_crc32(uint32_t crc, const uint8_t *data, size_t length);

#endif
