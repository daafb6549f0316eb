/* Paths the runner was given. */
#ifndef LS_SUPPORT_H
#define LS_SUPPORT_H
extern const char *vectors_path;
extern const char *emulator_path;
#endif
