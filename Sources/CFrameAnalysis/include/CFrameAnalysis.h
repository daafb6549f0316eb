#ifndef CFRAMEANALYSIS_H
#define CFRAMEANALYSIS_H
/* JPEG decode/encode through libjpeg-turbo with its longjmp-based error handling kept inside
 * C frames (a longjmp through Swift frames is undefined behaviour). Every function returns 0
 * on success, or -1 with a NUL-terminated reason in `message`. */
#include <stddef.h>

typedef struct lsa_jpeg_decoder lsa_jpeg_decoder;

/* Reads the header. `data` must stay valid until lsa_jpeg_decoder_destroy. Returns NULL on
 * error. `components` is 1 (grayscale) or 3 (RGB). */
lsa_jpeg_decoder *lsa_jpeg_decoder_create(const unsigned char *data, size_t size, int *width,
                                          int *height, int *components, char *message,
                                          size_t message_capacity);
/* Decodes into `components` planes of width*height bytes each. Corrupt-data warnings
 * (truncation, bad Huffman codes) are treated as errors. */
int lsa_jpeg_decoder_read_planar(lsa_jpeg_decoder *decoder, unsigned char *const *planes,
                                 char *message, size_t message_capacity);
void lsa_jpeg_decoder_destroy(lsa_jpeg_decoder *decoder);

/* Encodes planar 8-bit samples (1 or 3 planes). On success *out is malloc'd: free with
 * lsa_free. */
int lsa_jpeg_encode_planar(const unsigned char *const *planes, int width, int height,
                           int components, int quality, unsigned char **out, size_t *out_size,
                           char *message, size_t message_capacity);
void lsa_free(void *pointer);

#endif
