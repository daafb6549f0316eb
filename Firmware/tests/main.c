/* Test runner: runs every test in list.h, prints each failure, closes with
 * "N passed, M failed" and exits non-zero on any failure.
 * usage: ledsentry-tests VECTORS_FILE EMULATOR_BINARY [TEST_NAME]
 *        ledsentry-tests --generate VECTORS_FILE MARKDOWN_FILE */
#include "check.h"
#include "support.h"
#include <string.h>

int check_failures;
const char *vectors_path = "tests/vectors.txt";
const char *emulator_path = "build/ledsentry-emu";

#define X(name) void test_##name(void);
#include "list.h"
#undef X

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
#define X(name) {#name, test_##name},
#include "list.h"
#undef X
};

int vectors_generate(const char *txt_path, const char *md_path);

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--generate") == 0) return vectors_generate(argv[2], argv[3]);
    if (argc > 1) vectors_path = argv[1];
    if (argc > 2) emulator_path = argv[2];
    const char *only = argc > 3 ? argv[3] : NULL;
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (only && strcmp(only, tests[i].name) != 0) continue;
        check_failures = 0;
        tests[i].run();
        if (check_failures) {
            failed++;
            printf("FAIL %s (%d check%s)\n", tests[i].name, check_failures,
                   check_failures == 1 ? "" : "s");
        } else {
            passed++;
            printf("ok   %s\n", tests[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
