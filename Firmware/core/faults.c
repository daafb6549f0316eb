#include "faults.h"
#include <string.h>

/* ---- a tiny message builder (no printf: core must build freestanding) ---- */
typedef struct {
    char *text;
    size_t size, length;
} message;

static void msg_str(message *m, const char *s)
{
    while (*s && m->length + 1 < m->size) m->text[m->length++] = *s++;
    if (m->size) m->text[m->length] = '\0';
}
static void msg_num(message *m, uint32_t v)
{
    char digits[11];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    char out[12];
    for (int i = 0; i < n; i++) out[i] = digits[n - 1 - i];
    out[n] = '\0';
    msg_str(m, out);
}

/* ---- the SPEC grammar: `kind key=value key=value ...` ---- */
enum { MAX_PAIRS = 12, MAX_TOKEN = 32 };

typedef struct {
    char key[MAX_TOKEN];
    char value[MAX_TOKEN];
    int used;
} pair;

typedef struct {
    const char *name;
    ls_fault_kind kind;
    const char *keys; /* space-separated keys this kind accepts */
} kind_info;

static const kind_info kinds[] = {
    {"dead-led", LS_FAULT_DEAD_LED, "cabinet x y wx wy channel"},
    {"stuck-led", LS_FAULT_STUCK_LED, "cabinet x y wx wy channel"},
    {"dim-led", LS_FAULT_DIM_LED, "cabinet x y wx wy channel level"},
    {"dead-row", LS_FAULT_DEAD_ROW, "cabinet y x0 x1 channel"},
    {"dead-column", LS_FAULT_DEAD_COLUMN, "cabinet x y0 y1 channel"},
    {"dead-module", LS_FAULT_DEAD_MODULE, "cabinet module"},
    {"chain-break", LS_FAULT_CHAIN_BREAK, "cabinet after"},
    {"missing-ic", LS_FAULT_MISSING_IC, "cabinet module ic"},
    {"calibration-mismatch", LS_FAULT_CALIBRATION_MISMATCH, "cabinet module"},
    {"over-temperature", LS_FAULT_OVER_TEMPERATURE, "cabinet celsius after"},
    {"under-voltage", LS_FAULT_UNDER_VOLTAGE, "cabinet millivolts after"},
    {"fan-stall", LS_FAULT_FAN_STALL, "cabinet after"},
    {"cabinet-offline", LS_FAULT_CABINET_OFFLINE, "cabinet"},
    {"flaky-link", LS_FAULT_FLAKY_LINK, "drop corrupt"},
    {"unplug-after", LS_FAULT_UNPLUG_AFTER, "seconds"},
    {"slow-response", LS_FAULT_SLOW_RESPONSE, "ms"},
};

const char *ls_fault_kind_name(ls_fault_kind kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == kind) return kinds[i].name;
    return "?";
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int key_allowed(const char *keys, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = keys; *p;) {
        const char *end = p;
        while (*end && *end != ' ') end++;
        if ((size_t)(end - p) == n && memcmp(p, key, n) == 0) return 1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* Decimal with up to `decimals` fraction digits, scaled: ("0.05", 6) -> 50000. */
static int parse_fixed(const char *s, int decimals, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    int digits = 0, fraction = -1;
    for (; *s; s++) {
        if (*s == '.' && fraction < 0) {
            fraction = 0;
            continue;
        }
        if (*s < '0' || *s > '9') return -1;
        if (fraction >= 0) {
            if (fraction == decimals) continue; /* extra precision is ignored */
            fraction++;
        }
        v = v * 10u + (uint64_t)(*s - '0');
        digits++;
        if (v > 0xFFFFFFFFull * 10u) return -1;
    }
    if (digits == 0) return -1;
    for (int f = fraction < 0 ? 0 : fraction; f < decimals; f++) v *= 10u;
    if (v > max) return -1;
    *out = (uint32_t)v;
    return 0;
}

typedef struct {
    pair pairs[MAX_PAIRS];
    int count;
    const char *kind_name;
    message *error;
} spec;

static pair *find(spec *s, const char *key)
{
    for (int i = 0; i < s->count; i++)
        if (strcmp(s->pairs[i].key, key) == 0) return &s->pairs[i];
    return NULL;
}

static int fail(spec *s, const char *what, const char *key)
{
    msg_str(s->error, s->kind_name);
    msg_str(s->error, ": ");
    msg_str(s->error, what);
    if (key) msg_str(s->error, key);
    return -1;
}

static int fail_near(spec *s, const char *what, const char *text)
{
    fail(s, what, NULL);
    msg_str(s->error, text);
    msg_str(s->error, "'");
    return -1;
}

/* Reads key as a number in 0..max (scaled by decimals); `fallback` < 0 means required. */
static int number(spec *s, const char *key, int decimals, uint32_t max, int64_t fallback,
                  uint32_t *out)
{
    pair *p = find(s, key);
    if (!p) {
        if (fallback < 0) return fail(s, "missing key ", key);
        *out = (uint32_t)fallback;
        return 0;
    }
    p->used = 1;
    if (parse_fixed(p->value, decimals, max, out) != 0) {
        fail(s, "bad value for ", key);
        msg_str(s->error, "='");
        msg_str(s->error, p->value);
        uint32_t scale = 1;
        for (int i = 0; i < decimals; i++) scale *= 10u;
        msg_str(s->error, decimals ? "' (expected a decimal number from 0 to " : "' (expected a whole number from 0 to ");
        msg_num(s->error, max / scale);
        msg_str(s->error, ")");
        return -1;
    }
    return 0;
}

static int channel_mask(spec *s, uint8_t *mask)
{
    pair *p = find(s, "channel");
    *mask = LS_CHANNEL_ALL;
    if (!p) return 0;
    p->used = 1;
    static const struct {
        const char *name;
        uint8_t mask;
    } names[] = {{"red", LS_CHANNEL_RED}, {"green", LS_CHANNEL_GREEN}, {"blue", LS_CHANNEL_BLUE},
                 {"all", LS_CHANNEL_ALL}, {"r", LS_CHANNEL_RED}, {"g", LS_CHANNEL_GREEN},
                 {"b", LS_CHANNEL_BLUE}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(p->value, names[i].name) == 0) {
            *mask = names[i].mask;
            return 0;
        }
    fail(s, "bad channel '", NULL);
    msg_str(s->error, p->value);
    msg_str(s->error, "' (expected red, green, blue or all)");
    return -1;
}

static int cabinet_key(spec *s, const ls_geometry *g, uint16_t *cabinet)
{
    uint32_t v;
    if (number(s, "cabinet", 0, ls_geometry_cabinets(g) - 1u, -1, &v) != 0) return -1;
    *cabinet = (uint16_t)v;
    return 0;
}

static int module_key(spec *s, const ls_geometry *g, const char *key, uint16_t *module)
{
    uint32_t v;
    if (number(s, key, 0, (uint32_t)g->modules_x * g->modules_y - 1u, -1, &v) != 0) return -1;
    *module = (uint16_t)v;
    return 0;
}

/* x,y cabinet-local with `cabinet`, or wall-global wx,wy (which also pick the cabinet). */
static int led_position(spec *s, const ls_geometry *g, ls_fault *f)
{
    uint32_t cw = ls_geometry_cabinet_width(g), ch = ls_geometry_cabinet_height(g);
    if (find(s, "wx") || find(s, "wy")) {
        uint32_t wx, wy;
        if (find(s, "x") || find(s, "y") || find(s, "cabinet"))
            return fail(s, "use either cabinet,x,y or wx,wy", NULL);
        if (number(s, "wx", 0, cw * g->cabinet_columns - 1u, -1, &wx) != 0 ||
            number(s, "wy", 0, ch * g->cabinet_rows - 1u, -1, &wy) != 0)
            return -1;
        f->cabinet = (uint16_t)((wy / ch) * g->cabinet_columns + wx / cw);
        f->x0 = f->x1 = (uint16_t)(wx % cw);
        f->y0 = f->y1 = (uint16_t)(wy % ch);
        return 0;
    }
    uint32_t x, y;
    if (cabinet_key(s, g, &f->cabinet) != 0 || number(s, "x", 0, cw - 1u, -1, &x) != 0 ||
        number(s, "y", 0, ch - 1u, -1, &y) != 0)
        return -1;
    f->x0 = f->x1 = (uint16_t)x;
    f->y0 = f->y1 = (uint16_t)y;
    return 0;
}

static int interpret(spec *s, const ls_geometry *g, ls_fault *f)
{
    uint32_t a, b, c;
    uint32_t cw = ls_geometry_cabinet_width(g), ch = ls_geometry_cabinet_height(g);
    switch (f->kind) {
    case LS_FAULT_DIM_LED:
        if (number(s, "level", 0, 100, 50, &a) != 0) return -1;
        f->level = (uint8_t)a;
        /* fall through */
    case LS_FAULT_DEAD_LED:
    case LS_FAULT_STUCK_LED:
        return led_position(s, g, f) == 0 ? channel_mask(s, &f->channels) : -1;
    case LS_FAULT_DEAD_ROW:
        if (cabinet_key(s, g, &f->cabinet) || number(s, "y", 0, ch - 1u, -1, &a) ||
            number(s, "x0", 0, cw - 1u, 0, &b) || number(s, "x1", 0, cw - 1u, cw - 1u, &c))
            return -1;
        if (b > c) return fail(s, "x0 must not exceed x1", NULL);
        f->y0 = f->y1 = (uint16_t)a;
        f->x0 = (uint16_t)b;
        f->x1 = (uint16_t)c;
        return channel_mask(s, &f->channels);
    case LS_FAULT_DEAD_COLUMN:
        if (cabinet_key(s, g, &f->cabinet) || number(s, "x", 0, cw - 1u, -1, &a) ||
            number(s, "y0", 0, ch - 1u, 0, &b) || number(s, "y1", 0, ch - 1u, ch - 1u, &c))
            return -1;
        if (b > c) return fail(s, "y0 must not exceed y1", NULL);
        f->x0 = f->x1 = (uint16_t)a;
        f->y0 = (uint16_t)b;
        f->y1 = (uint16_t)c;
        return channel_mask(s, &f->channels);
    case LS_FAULT_DEAD_MODULE:
    case LS_FAULT_CALIBRATION_MISMATCH:
        return cabinet_key(s, g, &f->cabinet) || module_key(s, g, "module", &f->module) ? -1 : 0;
    case LS_FAULT_CHAIN_BREAK:
        return cabinet_key(s, g, &f->cabinet) || module_key(s, g, "after", &f->module) ? -1 : 0;
    case LS_FAULT_MISSING_IC:
        if (cabinet_key(s, g, &f->cabinet) || module_key(s, g, "module", &f->module) ||
            number(s, "ic", 0, ls_geometry_ics_per_module(g) - 1u, -1, &a))
            return -1;
        f->ic = (uint16_t)a;
        return 0;
    case LS_FAULT_OVER_TEMPERATURE:
        if (cabinet_key(s, g, &f->cabinet) || number(s, "celsius", 1, 2000, -1, &a) ||
            number(s, "after", 3, 86400000u, 0, &f->after_ms))
            return -1;
        f->value = (int32_t)a;
        return 0;
    case LS_FAULT_UNDER_VOLTAGE:
        if (cabinet_key(s, g, &f->cabinet) || number(s, "millivolts", 0, 65535, -1, &a) ||
            number(s, "after", 3, 86400000u, 0, &f->after_ms))
            return -1;
        f->value = (int32_t)a;
        return 0;
    case LS_FAULT_FAN_STALL:
        return cabinet_key(s, g, &f->cabinet) || number(s, "after", 3, 86400000u, 0, &f->after_ms)
                   ? -1
                   : 0;
    case LS_FAULT_CABINET_OFFLINE:
        return cabinet_key(s, g, &f->cabinet);
    case LS_FAULT_FLAKY_LINK:
        if (!find(s, "drop") && !find(s, "corrupt"))
            return fail(s, "give drop= and/or corrupt= (fractions, e.g. 0.05)", NULL);
        return number(s, "drop", 6, 1000000u, 0, &f->drop_ppm) ||
                       number(s, "corrupt", 6, 1000000u, 0, &f->corrupt_ppm)
                   ? -1
                   : 0;
    case LS_FAULT_UNPLUG_AFTER:
        return number(s, "seconds", 3, 86400000u, -1, &f->after_ms);
    case LS_FAULT_SLOW_RESPONSE:
        if (number(s, "ms", 0, 60000, -1, &a) != 0) return -1;
        f->value = (int32_t)a;
        return 0;
    case LS_FAULT_KIND_COUNT:
        break;
    }
    return -1;
}

int ls_fault_parse(const char *text, const ls_geometry *geometry, ls_fault *fault, char *error,
                   size_t error_size)
{
    message m = {error, error_size, 0};
    msg_str(&m, "");
    spec s;
    memset(&s, 0, sizeof s);
    s.error = &m;
    memset(fault, 0, sizeof *fault);

    while (is_space(*text)) text++;
    size_t n = 0;
    while (text[n] && !is_space(text[n])) n++;
    const kind_info *info = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i].name) == n && memcmp(kinds[i].name, text, n) == 0) info = &kinds[i];
    if (!info) {
        msg_str(&m, "unknown fault kind '");
        for (size_t i = 0; i < n && i < MAX_TOKEN; i++) {
            char c[2] = {text[i], 0};
            msg_str(&m, c);
        }
        msg_str(&m, "' (known: ");
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            msg_str(&m, i ? ", " : "");
            msg_str(&m, kinds[i].name);
        }
        msg_str(&m, ")");
        return -1;
    }
    s.kind_name = info->name;
    fault->kind = info->kind;
    text += n;

    for (;;) {
        while (is_space(*text)) text++;
        if (!*text) break;
        size_t k = 0, v;
        while (text[k] && text[k] != '=' && !is_space(text[k])) k++;
        if (text[k] != '=' || k == 0) return fail_near(&s, "expected key=value near '", text);
        v = k + 1;
        while (text[v] && !is_space(text[v])) v++;
        if (s.count == MAX_PAIRS) return fail(&s, "too many keys", NULL);
        if (k >= MAX_TOKEN || v - k - 1 >= MAX_TOKEN || v == k + 1)
            return fail_near(&s, "key or value empty or too long near '", text);
        pair *p = &s.pairs[s.count++];
        memcpy(p->key, text, k);
        memcpy(p->value, text + k + 1, v - k - 1);
        if (!key_allowed(info->keys, p->key)) {
            fail(&s, "unknown key '", NULL);
            msg_str(&m, p->key);
            msg_str(&m, "' (accepted: ");
            msg_str(&m, info->keys);
            msg_str(&m, ")");
            return -1;
        }
        for (int i = 0; i + 1 < s.count; i++)
            if (strcmp(s.pairs[i].key, p->key) == 0) return fail(&s, "repeated key ", p->key);
        text += v;
    }
    return interpret(&s, geometry, fault);
}
