#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "serve.h"
#include "../core/rng.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUEUED_BYTES (1u << 20) /* beyond this, output nobody reads is dropped */

typedef struct chunk {
    struct chunk *next;
    uint64_t due_ms;
    size_t length, sent;
    uint8_t data[];
} chunk;

struct serve {
    serve_options options;
    int master, slave;      /* PTY */
    int listener, client;   /* socket */
    char port_name[108];
    int link_created, socket_created;
    chunk *head, *tail;
    size_t queued;
    ls_rng rng;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

uint64_t serve_now_ms(void)
{
    static struct timespec start;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (start.tv_sec == 0 && start.tv_nsec == 0) start = now;
    return (uint64_t)(now.tv_sec - start.tv_sec) * 1000u +
           (uint64_t)((now.tv_nsec - start.tv_nsec) / 1000000);
}

static serve *fail(serve *s, char *error, size_t size, const char *what, const char *path)
{
    snprintf(error, size, "%s%s%s: %s", what, path ? " " : "", path ? path : "", strerror(errno));
    serve_close(s);
    return NULL;
}

static serve *open_pty(serve *s, char *error, size_t size)
{
    s->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (s->master < 0) return fail(s, error, size, "posix_openpt", NULL);
    if (grantpt(s->master) != 0 || unlockpt(s->master) != 0)
        return fail(s, error, size, "grantpt/unlockpt", NULL);
    const char *name = ptsname(s->master);
    if (!name) return fail(s, error, size, "ptsname", NULL);
    snprintf(s->port_name, sizeof s->port_name, "%s", name);
    /* Holding the slave open ourselves keeps the master from seeing a hang-up (EIO) while
     * no client has the port open, so clients can come and go. */
    s->slave = open(s->port_name, O_RDWR | O_NOCTTY);
    if (s->slave < 0) return fail(s, error, size, "open", s->port_name);
    struct termios raw;
    if (tcgetattr(s->slave, &raw) != 0) return fail(s, error, size, "tcgetattr", s->port_name);
    cfmakeraw(&raw);
    cfsetispeed(&raw, B115200);
    cfsetospeed(&raw, B115200);
    if (tcsetattr(s->slave, TCSANOW, &raw) != 0)
        return fail(s, error, size, "tcsetattr", s->port_name);
    fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
    if (s->options.link_path) {
        struct stat st;
        if (lstat(s->options.link_path, &st) == 0 && S_ISLNK(st.st_mode))
            unlink(s->options.link_path); /* a stale link from an earlier run */
        if (symlink(s->port_name, s->options.link_path) != 0)
            return fail(s, error, size, "symlink", s->options.link_path);
        s->link_created = 1;
    }
    printf("port: %s\n", s->port_name);
    fflush(stdout);
    return s;
}

static serve *open_socket(serve *s, char *error, size_t size)
{
    struct sockaddr_un address = {0};
    address.sun_family = AF_UNIX;
    if (strlen(s->options.socket_path) >= sizeof address.sun_path) {
        snprintf(error, size, "socket path too long (max %zu bytes): %s",
                 sizeof address.sun_path - 1, s->options.socket_path);
        serve_close(s);
        return NULL;
    }
    strcpy(address.sun_path, s->options.socket_path);
    struct stat st;
    if (lstat(address.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(address.sun_path); /* a stale socket from an earlier run */
    s->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listener < 0) return fail(s, error, size, "socket", NULL);
    if (bind(s->listener, (struct sockaddr *)&address, sizeof address) != 0)
        return fail(s, error, size, "bind", address.sun_path);
    s->socket_created = 1;
    if (listen(s->listener, 4) != 0) return fail(s, error, size, "listen", address.sun_path);
    snprintf(s->port_name, sizeof s->port_name, "%s", address.sun_path);
    printf("socket: %s\n", s->port_name);
    fflush(stdout);
    return s;
}

serve *serve_open(const serve_options *options, char *error, size_t error_size)
{
    serve *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    /* Handlers first, so a signal during start-up still removes what we create. */
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
    s->options = *options;
    s->master = s->slave = s->listener = s->client = -1;
    s->rng.state = options->seed ^ 0x6C696E6B6C696E6Bull; /* its own stream, apart from the device's */
    serve_now_ms();
    return options->socket_path ? open_socket(s, error, error_size) : open_pty(s, error, error_size);
}

static int output_fd(const serve *s) { return s->options.socket_path ? s->client : s->master; }

/* Applies the flaky-link fault to bytes in place; returns the count kept. */
static size_t damage(serve *s, uint8_t *bytes, size_t count)
{
    if (!s->options.drop_ppm && !s->options.corrupt_ppm) return count;
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (ls_rng_chance(&s->rng, s->options.drop_ppm)) continue;
        uint8_t b = bytes[i];
        if (ls_rng_chance(&s->rng, s->options.corrupt_ppm))
            b ^= (uint8_t)(1u << (ls_rng_next(&s->rng) % 8u));
        bytes[kept++] = b;
    }
    return kept;
}

void serve_send(serve *s, const uint8_t *bytes, size_t count)
{
    if (output_fd(s) < 0 || count == 0 || s->queued + count > MAX_QUEUED_BYTES) return;
    chunk *c = malloc(sizeof *c + count);
    if (!c) return;
    memcpy(c->data, bytes, count);
    c->length = damage(s, c->data, count);
    c->sent = 0;
    c->next = NULL;
    c->due_ms = serve_now_ms() + s->options.slow_ms;
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    s->queued += c->length;
}

static void drop_queue(serve *s)
{
    while (s->head) {
        chunk *next = s->head->next;
        free(s->head);
        s->head = next;
    }
    s->tail = NULL;
    s->queued = 0;
}

/* Writes what is due; returns -1 when the peer is gone. */
static int flush_output(serve *s, uint64_t now)
{
    int fd = output_fd(s);
    while (s->head && s->head->due_ms <= now && fd >= 0) {
        chunk *c = s->head;
        ssize_t n = write(fd, c->data + c->sent, c->length - c->sent);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return 0;
            return -1;
        }
        c->sent += (size_t)n;
        if (c->sent < c->length) return 0;
        s->head = c->next;
        if (!s->head) s->tail = NULL;
        s->queued -= c->length;
        free(c);
    }
    return 0;
}

static void drop_client(serve *s)
{
    if (s->client >= 0) close(s->client);
    s->client = -1;
    drop_queue(s);
    fprintf(stderr, "ledsentry-emu: client disconnected from %s\n", s->port_name);
}

int serve_run(serve *s, const serve_handler *h)
{
    uint8_t buffer[4096];
    while (!stop_requested) {
        uint64_t now = serve_now_ms();
        if (s->options.unplug_after_ms && now >= s->options.unplug_after_ms) {
            fprintf(stderr, "ledsentry-emu: unplugged after %u ms (fault unplug-after)\n",
                    s->options.unplug_after_ms);
            return 0;
        }
        h->tick(h->context, now);
        if (flush_output(s, now) != 0) drop_client(s);

        int timeout = 10;
        if (h->idle_ms) {
            uint32_t idle = h->idle_ms(h->context, now);
            if (idle < (uint32_t)timeout) timeout = (int)idle;
        }
        if (s->head && s->head->due_ms > now && s->head->due_ms - now < (uint64_t)timeout)
            timeout = (int)(s->head->due_ms - now);

        int socket_mode = s->options.socket_path != NULL;
        struct pollfd p = {-1, POLLIN, 0};
        p.fd = socket_mode ? (s->client >= 0 ? s->client : s->listener) : s->master;
        if (s->head && s->head->due_ms <= now && output_fd(s) == p.fd) p.events |= POLLOUT;
        int ready = poll(&p, 1, timeout);
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, "ledsentry-emu: poll: %s\n", strerror(errno));
            return 3;
        }
        if (ready <= 0) continue;
        now = serve_now_ms();

        if (socket_mode && s->client < 0) {
            s->client = accept(s->listener, NULL, NULL);
            if (s->client >= 0) {
                fcntl(s->client, F_SETFL, fcntl(s->client, F_GETFL) | O_NONBLOCK);
                fcntl(s->client, F_SETFD, FD_CLOEXEC);
                fprintf(stderr, "ledsentry-emu: client connected to %s\n", s->port_name);
                if (h->connected) h->connected(h->context, now);
            }
            continue;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(p.fd, buffer, sizeof buffer);
            if (n > 0) {
                size_t kept = damage(s, buffer, (size_t)n);
                h->receive(h->context, buffer, kept, now);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (socket_mode) {
                    drop_client(s);
                } else {
                    /* Cannot happen while we hold the slave; do not spin if it does. */
                    struct timespec pause = {0, 10 * 1000 * 1000};
                    nanosleep(&pause, NULL);
                }
            }
        }
        if (flush_output(s, now) != 0) drop_client(s);
    }
    fprintf(stderr, "ledsentry-emu: stopping on signal\n");
    return 0;
}

void serve_close(serve *s)
{
    if (!s) return;
    drop_queue(s);
    if (s->link_created) unlink(s->options.link_path);
    if (s->socket_created) unlink(s->options.socket_path);
    int fds[] = {s->client, s->listener, s->master, s->slave};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0) close(fds[i]);
    free(s);
}
