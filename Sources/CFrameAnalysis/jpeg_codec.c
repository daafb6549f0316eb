#include "CFrameAnalysis.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

/* libjpeg reports errors through error_exit, which must not return: we longjmp back to the
 * setjmp of the C function that called into libjpeg, never across a Swift frame. */
struct lsa_error_manager {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char text[JMSG_LENGTH_MAX];
};

static void lsa_error_exit(j_common_ptr cinfo) {
    struct lsa_error_manager *err = (struct lsa_error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->text);
    longjmp(err->jump, 1);
}

/* A warning (msg_level -1) means corrupt or truncated data that libjpeg would silently fill
 * with grey; for defect analysis that is an error, not a picture. */
static void lsa_emit_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level < 0) lsa_error_exit(cinfo);
}

static void lsa_copy_message(char *message, size_t capacity, const char *text) {
    if (message == NULL || capacity == 0) return;
    snprintf(message, capacity, "%s", text);
}

struct lsa_jpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    struct lsa_error_manager err;
};

lsa_jpeg_decoder *lsa_jpeg_decoder_create(const unsigned char *data, size_t size, int *width,
                                          int *height, int *components, char *message,
                                          size_t message_capacity) {
    lsa_jpeg_decoder *decoder = calloc(1, sizeof(*decoder));
    if (decoder == NULL) {
        lsa_copy_message(message, message_capacity, "out of memory");
        return NULL;
    }
    decoder->cinfo.err = jpeg_std_error(&decoder->err.pub);
    decoder->err.pub.error_exit = lsa_error_exit;
    decoder->err.pub.emit_message = lsa_emit_message;
    if (setjmp(decoder->err.jump)) {
        lsa_copy_message(message, message_capacity, decoder->err.text);
        jpeg_destroy_decompress(&decoder->cinfo);
        free(decoder);
        return NULL;
    }
    jpeg_create_decompress(&decoder->cinfo);
    jpeg_mem_src(&decoder->cinfo, data, (unsigned long)size);
    jpeg_read_header(&decoder->cinfo, TRUE);
    switch (decoder->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        decoder->cinfo.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        decoder->cinfo.out_color_space = JCS_RGB;
        break;
    default:
        lsa_copy_message(message, message_capacity,
                         "unsupported JPEG colour space (CMYK/YCCK); save the capture as RGB");
        jpeg_destroy_decompress(&decoder->cinfo);
        free(decoder);
        return NULL;
    }
    jpeg_calc_output_dimensions(&decoder->cinfo);
    *width = (int)decoder->cinfo.output_width;
    *height = (int)decoder->cinfo.output_height;
    *components = decoder->cinfo.out_color_components;
    return decoder;
}

int lsa_jpeg_decoder_read_planar(lsa_jpeg_decoder *decoder, unsigned char *const *planes,
                                 char *message, size_t message_capacity) {
    struct jpeg_decompress_struct *cinfo = &decoder->cinfo;
    JSAMPLE *row = NULL;
    if (setjmp(decoder->err.jump)) {
        lsa_copy_message(message, message_capacity, decoder->err.text);
        free(row);
        return -1;
    }
    jpeg_start_decompress(cinfo);
    const size_t width = cinfo->output_width;
    const int components = cinfo->output_components;
    row = malloc(width * (size_t)components);
    if (row == NULL) {
        lsa_copy_message(message, message_capacity, "out of memory");
        return -1;
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        const size_t y = cinfo->output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(cinfo, rows, 1);
        if (components == 1) {
            memcpy(planes[0] + y * width, row, width);
        } else {
            unsigned char *r = planes[0] + y * width, *g = planes[1] + y * width,
                          *b = planes[2] + y * width;
            for (size_t x = 0; x < width; x++) {
                r[x] = row[3 * x];
                g[x] = row[3 * x + 1];
                b[x] = row[3 * x + 2];
            }
        }
    }
    jpeg_finish_decompress(cinfo);
    free(row);
    return 0;
}

void lsa_jpeg_decoder_destroy(lsa_jpeg_decoder *decoder) {
    if (decoder == NULL) return;
    jpeg_destroy_decompress(&decoder->cinfo);
    free(decoder);
}

int lsa_jpeg_encode_planar(const unsigned char *const *planes, int width, int height,
                           int components, int quality, unsigned char **out, size_t *out_size,
                           char *message, size_t message_capacity) {
    struct jpeg_compress_struct cinfo;
    struct lsa_error_manager err;
    unsigned char *buffer = NULL;
    unsigned long buffer_size = 0;
    JSAMPLE *row = NULL;
    *out = NULL;
    *out_size = 0;
    if (components != 1 && components != 3) {
        lsa_copy_message(message, message_capacity, "JPEG needs 1 or 3 components");
        return -1;
    }
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = lsa_error_exit;
    if (setjmp(err.jump)) {
        lsa_copy_message(message, message_capacity, err.text);
        jpeg_destroy_compress(&cinfo);
        free(row);
        free(buffer);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    row = malloc((size_t)width * (size_t)components);
    if (row == NULL) {
        snprintf(err.text, sizeof err.text, "out of memory");
        longjmp(err.jump, 1);
    }
    while (cinfo.next_scanline < cinfo.image_height) {
        const size_t y = cinfo.next_scanline;
        if (components == 1) {
            memcpy(row, planes[0] + y * (size_t)width, (size_t)width);
        } else {
            for (size_t x = 0; x < (size_t)width; x++) {
                row[3 * x] = planes[0][y * (size_t)width + x];
                row[3 * x + 1] = planes[1][y * (size_t)width + x];
                row[3 * x + 2] = planes[2][y * (size_t)width + x];
            }
        }
        JSAMPROW rows[1] = {row};
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(row);
    *out = buffer;
    *out_size = buffer_size;
    return 0;
}

void lsa_free(void *pointer) { free(pointer); }
