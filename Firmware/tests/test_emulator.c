/* The emulator binary over real ports: a PTY (via its --link symlink), a UNIX socket,
 * signals, unplug, link faults, and its command line. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "../core/bytes.h"
#include "../core/frame.h"
#include "check.h"
#include "harness.h"
#include "support.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    int out, err; /* the emulator's stdout and stderr */
    char line[256];
} process;

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Starts the emulator with args (NULL-terminated) and reads its first stdout line. */
static int start(process *p, const char *const *args)
{
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) return -1;
    const char *argv[32] = {emulator_path};
    size_t n = 1;
    for (; args[n - 1] && n < 31; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    p->pid = fork();
    if (p->pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        execv(emulator_path, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    p->out = out[0];
    p->err = err[0];
    size_t used = 0;
    p->line[0] = '\0';
    long long deadline = now_ms() + 3000;
    while (used + 1 < sizeof p->line && now_ms() < deadline) {
        struct pollfd pfd = {p->out, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0) continue;
        ssize_t r = read(p->out, p->line + used, 1);
        if (r <= 0) break;
        if (p->line[used] == '\n') break;
        used++;
    }
    p->line[used] = '\0';
    return used > 0 ? 0 : -1;
}

/* Waits for exit; returns the exit status, or -1 after timeout_ms (then kills it). */
static int finish(process *p, int timeout_ms)
{
    int status = 0;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            close(p->out);
            close(p->err);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(10000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    close(p->out);
    close(p->err);
    return -1;
}

static void read_stderr(process *p, char *text, size_t size)
{
    size_t used = 0;
    struct pollfd pfd = {p->err, POLLIN, 0};
    while (used + 1 < size && poll(&pfd, 1, 200) > 0) {
        ssize_t r = read(p->err, text + used, size - 1 - used);
        if (r <= 0) break;
        used += (size_t)r;
    }
    text[used] = '\0';
}

static int open_port(const char *path)
{
    int fd = open(path, O_RDWR | O_NOCTTY);
    if (fd < 0) return -1;
    struct termios t;
    tcgetattr(fd, &t);
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
    tcflush(fd, TCIFLUSH); /* events sent before we came */
    return fd;
}

typedef struct {
    ls_decoder decoder;
    uint8_t raw[LS_MAX_FRAME];
    size_t raw_size;
    uint16_t want_id;
    uint8_t want_command;
    int got;
} waiter;

static void on_frame(void *context, const ls_frame *f)
{
    waiter *w = context;
    if ((f->flags & LS_FLAG_EVENT) || f->request_id != w->want_id || f->command != w->want_command)
        return;
    w->raw_size = ls_frame_encode(f, w->raw, sizeof w->raw);
    w->got = 1;
}

/* Writes request bytes and waits up to timeout_ms for the response with that id/command. */
static int exchange(int fd, waiter *w, const uint8_t *request, size_t size, int timeout_ms)
{
    ls_frame header;
    header.request_id = ls_get_u16(request + 4);
    header.command = request[6];
    w->want_id = header.request_id;
    w->want_command = header.command;
    w->got = 0;
    if (write(fd, request, size) != (ssize_t)size) return -1;
    long long deadline = now_ms() + timeout_ms;
    while (!w->got && now_ms() < deadline) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int ready = poll(&pfd, 1, 20);
        if (ready < 0) return -1;
        if (ready == 0) continue;
        if (pfd.revents & (POLLHUP | POLLERR) && !(pfd.revents & POLLIN)) return -1;
        uint8_t buffer[4096];
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) return -1;
        ls_decoder_feed(&w->decoder, buffer, (size_t)n, (uint64_t)now_ms(), on_frame, w);
    }
    return w->got ? 0 : -1;
}

static size_t unhex(const char *text, uint8_t *out)
{
    size_t n = strlen(text) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(text + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* Event records carry uptime seconds; a slow machine may cross a second. */
static int same_but_uptimes(const uint8_t *a, const uint8_t *b, size_t n, const char *name)
{
    if (strcmp(name, "read_events") != 0 || n < 13) return memcmp(a, b, n) == 0;
    uint8_t x[LS_MAX_FRAME], y[LS_MAX_FRAME];
    memcpy(x, a, n);
    memcpy(y, b, n);
    for (size_t r = 13; r + 14 <= n - 4; r += 14) memset(x + r + 4, 0, 4), memset(y + r + 4, 0, 4);
    return memcmp(x, y, n - 4) == 0;
}

TEST(emulator_answers_vectors_over_pty_link)
{
    const char *link = "build/test-emu-link";
    const char *args[] = {"--seed", "1", "--link", link, "--fault",
                          "dead-led cabinet=0 x=2 y=0 channel=red", "--fault",
                          "over-temperature cabinet=1 celsius=85", NULL};
    process p;
    CHECK_EQ(start(&p, args), 0);
    CHECK(strncmp(p.line, "port: /dev/pts/", 15) == 0);
    char target[128] = "";
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n > 0) target[n] = '\0';
    CHECK(strcmp(target, p.line + 6) == 0);
    int fd = open_port(link);
    CHECK(fd >= 0);
    FILE *file = fopen(vectors_path, "r");
    CHECK(file != NULL);
    static char line[8192];
    static waiter w;
    ls_decoder_init(&w.decoder);
    int checked = 0;
    while (fd >= 0 && file && fgets(line, sizeof line, file)) {
        char name[64], rq[4200], rs[4200];
        if (line[0] == '#' || sscanf(line, "%63s %4199s %4199s", name, rq, rs) != 3) continue;
        if (strcmp(rq, "-") == 0) continue;
        static uint8_t request[LS_MAX_FRAME], response[LS_MAX_FRAME];
        size_t rq_size = unhex(rq, request), rs_size = unhex(rs, response);
        CHECK_EQ(exchange(fd, &w, request, rq_size, 3000), 0);
        if (!w.got) break;
        if (w.raw_size != rs_size || !same_but_uptimes(w.raw, response, rs_size, name)) {
            fprintf(stderr, "  %s over the PTY: got %s\n", name, hex(w.raw, w.raw_size));
            check_failures++;
        }
        checked++;
    }
    if (file) fclose(file);
    CHECK(checked >= 12);
    if (fd >= 0) close(fd);
    /* a second client can open the port after the first closed it; the last vector was a
     * REBOOT, so the device may still be silent for up to a second */
    fd = open_port(link);
    CHECK(fd >= 0);
    const uint8_t hello[] = {1, 1};
    uint8_t frame[32];
    ls_frame f = {1, 0, 300, LS_CMD_HELLO, 0, 2, hello};
    size_t size = ls_frame_encode(&f, frame, sizeof frame);
    ls_decoder_init(&w.decoder);
    int answered = -1;
    for (int attempt = 0; attempt < 4 && answered != 0; attempt++) {
        frame[3] = attempt ? LS_FLAG_RETRY : 0;
        size = ls_frame_encode(&f, frame, sizeof frame);
        f.flags = LS_FLAG_RETRY;
        answered = exchange(fd, &w, frame, size, 500);
    }
    CHECK_EQ(answered, 0);
    if (fd >= 0) close(fd);
    kill(p.pid, SIGTERM);
    CHECK_EQ(finish(&p, 3000), 0);
    struct stat st;
    CHECK(lstat(link, &st) != 0); /* the link is gone */
}

TEST(emulator_serves_a_socket_and_reaccepts)
{
    const char *path = "build/test-emu.sock";
    const char *args[] = {"--socket", path, NULL};
    process p;
    CHECK_EQ(start(&p, args), 0);
    CHECK(strcmp(p.line, "socket: build/test-emu.sock") == 0);
    for (int round = 0; round < 2; round++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un address = {0};
        address.sun_family = AF_UNIX;
        strcpy(address.sun_path, path);
        CHECK_EQ(connect(fd, (struct sockaddr *)&address, sizeof address), 0);
        static waiter w;
        ls_decoder_init(&w.decoder);
        const uint8_t payload[] = {LS_PARAM_GAMMA};
        uint8_t frame[32];
        ls_frame f = {1, 0, (uint16_t)(10 + round), LS_CMD_GET_PARAM, 0, 1, payload};
        size_t size = ls_frame_encode(&f, frame, sizeof frame);
        /* round 1 answers at once: the partial frame round 0 left behind was forgotten when
         * the new client connected (else the decoder would wait 100 ms for its 1000 bytes) */
        CHECK_EQ(exchange(fd, &w, frame, size, round ? 80 : 3000), 0);
        CHECK(w.got && w.raw[7] == LS_ST_OK && ls_get_u32(w.raw + 11) == 220);
        const uint8_t partial[] = {0xA5, 0x5A, 0x01, 0x00, 0x09, 0x00, 0x04, 0x00, 0xE8, 0x03, 0x01};
        CHECK_EQ(write(fd, partial, sizeof partial), (ssize_t)sizeof partial);
        usleep(20000);
        close(fd);
        usleep(50000);
    }
    kill(p.pid, SIGINT);
    CHECK_EQ(finish(&p, 3000), 0);
    struct stat st;
    CHECK(lstat(path, &st) != 0);
}

TEST(emulator_unplug_after_hangs_up)
{
    const char *args[] = {"--fault", "unplug-after seconds=0.4", NULL};
    process p;
    CHECK_EQ(start(&p, args), 0);
    int fd = open_port(p.line + 6);
    CHECK(fd >= 0);
    long long started = now_ms();
    int hung_up = 0;
    while (fd >= 0 && now_ms() - started < 3000) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) > 0 && (pfd.revents & (POLLHUP | POLLERR))) {
            hung_up = 1;
            break;
        }
        uint8_t b;
        if (pfd.revents & POLLIN && read(fd, &b, 1) < 0 && errno == EIO) {
            hung_up = 1;
            break;
        }
    }
    CHECK(hung_up);
    long long elapsed = now_ms() - started;
    CHECK(elapsed >= 250 && elapsed < 2000);
    CHECK_EQ(finish(&p, 2000), 0);
    if (fd >= 0) close(fd);
}

TEST(emulator_slow_response)
{
    const char *args[] = {"--fault", "slow-response ms=200", NULL};
    process p;
    CHECK_EQ(start(&p, args), 0);
    int fd = open_port(p.line + 6);
    static waiter w;
    ls_decoder_init(&w.decoder);
    const uint8_t hello[] = {1, 1};
    uint8_t frame[32];
    ls_frame f = {1, 0, 1, LS_CMD_HELLO, 0, 2, hello};
    size_t size = ls_frame_encode(&f, frame, sizeof frame);
    long long sent = now_ms();
    CHECK_EQ(exchange(fd, &w, frame, size, 3000), 0);
    long long latency = now_ms() - sent;
    CHECK(latency >= 195);
    close(fd);
    kill(p.pid, SIGTERM);
    CHECK_EQ(finish(&p, 3000), 0);
}

/* SET_PARAM brightness = id % 101 for ids 1..requests, each tried up to `tries` times with
 * RETRY; every answer that arrives must be the right one. Returns the number answered. */
static int flaky_run(const char *spec, int requests, int tries, int *attempts)
{
    const char *args[] = {"--seed", "5", "--fault", spec, NULL};
    process p;
    CHECK_EQ(start(&p, args), 0);
    int fd = open_port(p.line + 6);
    static waiter w;
    int answered = 0;
    *attempts = 0;
    for (uint16_t id = 1; id <= requests && fd >= 0; id++) {
        uint8_t payload[5] = {LS_PARAM_BRIGHTNESS};
        ls_put_u32(payload + 1, id % 101u);
        for (int attempt = 0; attempt < tries; attempt++) {
            uint8_t frame[32];
            ls_frame f = {1, attempt ? LS_FLAG_RETRY : 0, id, LS_CMD_SET_PARAM, 0, 5, payload};
            size_t size = ls_frame_encode(&f, frame, sizeof frame);
            (*attempts)++;
            ls_decoder_init(&w.decoder);
            if (exchange(fd, &w, frame, size, 100) == 0) {
                /* CRC-checked by the decoder: the answer must be the right one */
                CHECK_EQ(w.raw[7], LS_ST_OK);
                CHECK_EQ(ls_get_u32(w.raw + 11), id % 101u);
                answered++;
                break;
            }
        }
    }
    if (fd >= 0) close(fd);
    kill(p.pid, SIGTERM);
    CHECK_EQ(finish(&p, 3000), 0);
    return answered;
}

TEST(emulator_flaky_link_yields_only_correct_answers_with_retries)
{
    int attempts = 0;
    /* 1 % dropped and 1 % corrupted per byte, both directions: retries get everything through */
    CHECK_EQ(flaky_run("flaky-link drop=0.01 corrupt=0.01", 20, 15, &attempts), 20);
    CHECK(attempts > 20);
    /* 5 % + 5 %: a 19-byte exchange survives only ~2 % of the time; whatever arrives is right */
    int answered = flaky_run("flaky-link drop=0.05 corrupt=0.05", 2, 5, &attempts);
    CHECK(attempts > answered);
}

TEST(emulator_command_line_errors)
{
    static const struct {
        const char *args[6];
        int status;
        const char *message;
    } cases[] = {
        {{"--bogus", NULL}, 2, "unknown option: --bogus"},
        {{"--cabinets", "0x2", NULL}, 2, "--cabinets wants CxR"},
        {{"--cabinets", NULL}, 2, "missing value for: --cabinets"},
        {{"--module-size", "64by32", NULL}, 2, "--module-size wants WxH"},
        {{"--seed", "abc", NULL}, 2, "--seed wants a non-negative integer"},
        {{"--fault", "dead-led cabinet=9 x=0 y=0", NULL}, 2, "bad value for cabinet='9'"},
        {{"--faults", "tests/fixtures/bad-faults.txt", NULL}, 4, "bad-faults.txt:3: dead-row: missing key y"},
        {{"--faults", "build/no-such-file", NULL}, 4, "cannot read fault file build/no-such-file"},
        {{"--mode", "dimmer", NULL}, 2, "unknown --mode"},
        {{"stray", NULL}, 2, "unexpected argument: stray"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        process p;
        start(&p, cases[i].args); /* prints nothing on stdout */
        char text[1024];
        read_stderr(&p, text, sizeof text);
        int status = finish(&p, 3000);
        if (status != cases[i].status || !strstr(text, cases[i].message)) {
            fprintf(stderr, "  %s: exit %d, stderr '%s'\n", cases[i].args[0], status, text);
            check_failures++;
        }
    }
    /* --help teaches, exits 0 */
    const char *help[] = {"--help", NULL};
    process p;
    CHECK_EQ(start(&p, help), 0);
    CHECK(strstr(p.line, "usage: ledsentry-emu") != NULL);
    CHECK_EQ(finish(&p, 3000), 0);
}

TEST(emulator_fault_file_is_loaded)
{
    const char *args[] = {"--faults", "tests/fixtures/demo-faults.txt", NULL};
    process p;
    CHECK_EQ(start(&p, args), 0);
    char text[1024];
    read_stderr(&p, text, sizeof text);
    CHECK(strstr(text, "10 fault(s)") != NULL);
    int fd = open_port(p.line + 6);
    static waiter w;
    ls_decoder_init(&w.decoder);
    /* the file's dead-led at cabinet 0 x=10 y=5 red: LED index 5 * 128 + 10 */
    uint8_t payload[8];
    ls_put_u16(payload, 0);
    ls_put_u32(payload + 2, 5 * 128 + 10);
    ls_put_u16(payload + 6, 1);
    uint8_t frame[32];
    ls_frame f = {1, 0, 1, LS_CMD_READ_LED_STATUS, 0, 8, payload};
    size_t size = ls_frame_encode(&f, frame, sizeof frame);
    CHECK_EQ(exchange(fd, &w, frame, size, 3000), 0);
    CHECK(w.got && w.raw[7] == LS_ST_OK && w.raw[20] == LS_CH_OPEN);
    close(fd);
    kill(p.pid, SIGTERM);
    CHECK_EQ(finish(&p, 3000), 0);
}

TEST(emulator_frame_out_shows_what_the_wall_emits)
{
    const char *path = "build/test-frame.ppm";
    unlink(path);
    const char *args[] = {"--frame-out", path, "--fault", "dead-led cabinet=1 x=10 y=5 channel=red",
                          NULL};
    process p;
    CHECK_EQ(start(&p, args), 0);
    int fd = open_port(p.line + 6);
    static waiter w;
    ls_decoder_init(&w.decoder);
    uint8_t payload[3] = {LS_PATTERN_WHITE, 0, 0};
    uint8_t frame[32];
    ls_frame f = {1, 0, 1, LS_CMD_SHOW_PATTERN, 0, 3, payload};
    size_t size = ls_frame_encode(&f, frame, sizeof frame);
    CHECK_EQ(exchange(fd, &w, frame, size, 3000), 0);
    /* the answer goes out after the frame is written */
    static uint8_t image[64 + 256 * 128 * 3];
    size_t n = 0;
    FILE *file = fopen(path, "rb");
    CHECK(file != NULL);
    if (file) {
        n = fread(image, 1, sizeof image, file);
        fclose(file);
    }
    const char header[] = "P6\n256 128\n255\n";
    CHECK_EQ(n, sizeof header - 1 + 256 * 128 * 3);
    CHECK(memcmp(image, header, sizeof header - 1) == 0);
    const uint8_t *pixels = image + sizeof header - 1;
    /* cabinet 1 is the top-right one: its x=10 y=5 is wall x=138 */
    const uint8_t *dead = pixels + (5 * 256 + 138) * 3, *fine = pixels + (5 * 256 + 137) * 3;
    CHECK(dead[0] == 0 && dead[1] == 204 && dead[2] == 204);
    CHECK(fine[0] == 204 && fine[1] == 204 && fine[2] == 204);
    close(fd);
    kill(p.pid, SIGTERM);
    CHECK_EQ(finish(&p, 3000), 0);
}
