/* A tiny test runner: TEST(name) defines a test, CHECK/CHECK_EQ record failures with file and
 * line and carry on; RUN(name) runs one. No framework needed. */
#ifndef LS_CHECK_H
#define LS_CHECK_H
#include <stdio.h>

extern int check_failures; /* failures in the running test */

#define TEST(name) void test_##name(void)
#define CHECK(condition)                                                                      \
    do {                                                                                      \
        if (!(condition)) {                                                                   \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #condition);   \
            check_failures++;                                                                 \
        }                                                                                     \
    } while (0)
#define CHECK_EQ(actual, expected)                                                            \
    do {                                                                                      \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                        \
        if (a_ != e_) {                                                                       \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__,  \
                    #actual, a_, #expected, e_);                                              \
            check_failures++;                                                                 \
        }                                                                                     \
    } while (0)

#endif
