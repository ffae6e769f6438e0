/*
 * A meow simulator in plain C99 and libnng: a pendulum (Gymnasium's Pendulum-v1 dynamics) whose
 * actions come from a meow learner over the wire protocol of protocol/PROTOCOL.md (version 1.0).
 * Nothing else is needed on this side: no Python, no Swift, no meow library, not even libm.
 * Frames are built with the little-endian helpers and the CRC-32 below.
 *
 *   cc -std=c99 -Wall -Wextra -Werror sim.c -lnng -o sim
 *   ./sim tcp://127.0.0.1:7700 [episodes [seed [token]]]
 *
 * The conversation: HELLO (role simulator, Pendulum-v1's spaces) -> WELCOME; then one
 * ACTION_REQUEST per step whose rows say what happened (START with the reset observation, STEP
 * with the previous reward, END with the real final observation and its done flags);
 * EPISODE_STATS after each request that ended an episode; GOODBYE at the end. The END row of an
 * episode rides on the request that STARTs the next one, so every step costs one round trip.
 *
 * The environment: angle theta and angular velocity, torque u = 2 * action (actions are in
 * [-1, 1] on the wire), observation (cos theta, sin theta, theta_dot), reward
 * -(theta^2 + 0.1 theta_dot^2 + 0.001 u^2) with theta wrapped to [-pi, pi), truncated after 200
 * steps. Episode i starts at theta ~ U(-pi, pi), theta_dot ~ U(-1, 1), drawn from seed + i
 * (with this file's generator, not Gymnasium's).
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

/* ---- protocol constants (PROTOCOL.md sections 2, 3, 4.3, 5.13) ---- */

enum { HEADER_SIZE = 24, MAX_FRAME = 16 << 20, TIMEOUT_MS = 5000 };
enum {
    HELLO = 0x0001, WELCOME = 0x0002, REFUSED = 0x0003, GOODBYE = 0x0004, ACK = 0x0005,
    ERROR = 0x0006, EPISODE_STATS = 0x0012, ACTION_REQUEST = 0x0030, ACTION_REPLY = 0x0031
};
enum { ROLE_SIMULATOR = 2, DTYPE_F32 = 1 };
enum { EV_START = 0, EV_STEP = 1, EV_END = 2 };
enum { DONE_TERMINATED = 1, DONE_TRUNCATED = 2 };

#define OBS_DIM 3
#define ACT_DIM 1
#define MAX_STEPS 200
#define MAX_TORQUE 2.0
#define MAX_SPEED 8.0

/* ---- CRC-32, zlib's polynomial (reflected 0xEDB88320, init and final XOR 0xFFFFFFFF) ---- */

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

/* Continues a CRC: pass 0 to start, and the previous result to append more bytes. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* The frame checksum: header bytes 0..19, then the payload (the checksum field is skipped). */
static uint32_t frame_crc(const uint8_t *frame, size_t len) {
    return crc32_update(crc32_update(0, frame, 20), frame + HEADER_SIZE, len - HEADER_SIZE);
}

/* ---- a growing little-endian writer ---- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
} Writer;

static void w_reserve(Writer *w, size_t n) {
    if (w->len + n <= w->cap) return;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n) cap *= 2;
    uint8_t *p = realloc(w->p, cap);
    if (!p) { fprintf(stderr, "sim: out of memory\n"); exit(1); }
    w->p = p;
    w->cap = cap;
}

static void w_u8(Writer *w, uint8_t v) { w_reserve(w, 1); w->p[w->len++] = v; }

static void w_le(Writer *w, uint64_t v, int bytes) {
    w_reserve(w, (size_t)bytes);
    for (int i = 0; i < bytes; i++) w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

static void w_u16(Writer *w, uint16_t v) { w_le(w, v, 2); }
static void w_u32(Writer *w, uint32_t v) { w_le(w, v, 4); }
static void w_u64(Writer *w, uint64_t v) { w_le(w, v, 8); }

static void w_f32(Writer *w, float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    w_u32(w, bits);
}

static void w_f64(Writer *w, double d) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    w_u64(w, bits);
}

/* str and bytes: u16 length, then the bytes. */
static void w_str(Writer *w, const char *s) {
    size_t n = strlen(s);
    if (n > 1024) n = 1024; /* max_string_bytes */
    w_u16(w, (uint16_t)n);
    w_reserve(w, n);
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

/* Starts a frame: a header whose length and checksum frame_finish fills in. */
static void frame_begin(Writer *w, uint16_t type, uint32_t request_id) {
    w->len = 0;
    w_u8(w, 'M'); w_u8(w, 'E'); w_u8(w, 'O'); w_u8(w, 'W');
    w_u8(w, 1); /* major */
    w_u8(w, 0); /* minor */
    w_u16(w, type);
    w_u32(w, 0); /* flags */
    w_u32(w, request_id);
    w_u32(w, 0); /* payload_length, patched */
    w_u32(w, 0); /* checksum, patched */
}

static void put_u32_at(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void frame_finish(Writer *w) {
    put_u32_at(w->p + 16, (uint32_t)(w->len - HEADER_SIZE));
    put_u32_at(w->p + 20, frame_crc(w->p, w->len));
}

/* ---- a bounds-checked little-endian reader: a short read sets `bad` and yields 0 ---- */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    int bad;
} Reader;

static uint64_t r_le(Reader *r, int bytes) {
    if (r->bad || r->len - r->pos < (size_t)bytes) { r->bad = 1; return 0; }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += (size_t)bytes;
    return v;
}

static uint8_t r_u8(Reader *r) { return (uint8_t)r_le(r, 1); }
static uint16_t r_u16(Reader *r) { return (uint16_t)r_le(r, 2); }
static uint32_t r_u32(Reader *r) { return (uint32_t)r_le(r, 4); }
static uint64_t r_u64(Reader *r) { return r_le(r, 8); }

static float r_f32(Reader *r) {
    uint32_t bits = r_u32(r);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Copies a str into out (NUL-terminated, cut to fit). */
static void r_str(Reader *r, char *out, size_t cap) {
    size_t n = r_u16(r);
    if (r->bad || r->len - r->pos < n) { r->bad = 1; out[0] = 0; return; }
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(out, r->p + r->pos, k);
    out[k] = 0;
    r->pos += n;
}

/* ---- the connection ---- */

typedef struct {
    nng_socket sock;
    const char *url;
    uint32_t request_id;
    Writer out;
    uint8_t *reply; /* the last reply frame, owned by nng */
    size_t reply_len;
    uint16_t reply_type;
} Conn;

static void fail(const char *what) {
    fprintf(stderr, "sim: %s\n", what);
    exit(1);
}

/* Sends the frame in c->out, waits for the reply, checks its header and returns its payload. */
static Reader round_trip(Conn *c) {
    frame_finish(&c->out);
    if (c->reply) { nng_free(c->reply, c->reply_len); c->reply = NULL; }
    int rv = nng_send(c->sock, c->out.p, c->out.len, 0);
    if (rv == 0) rv = nng_recv(c->sock, &c->reply, &c->reply_len, NNG_FLAG_ALLOC);
    if (rv == NNG_ETIMEDOUT) {
        fprintf(stderr, "sim: no reply from the learner at %s within %d ms; is meow-learner listening there?\n",
                c->url, TIMEOUT_MS);
        exit(1);
    }
    if (rv != 0) { fprintf(stderr, "sim: nng: %s\n", nng_strerror(rv)); exit(1); }

    Reader h = { c->reply, c->reply_len, 0, 0 };
    if (c->reply_len < HEADER_SIZE) fail("reply shorter than a frame header");
    if (memcmp(c->reply, "MEOW", 4) != 0) fail("reply is not a meow frame");
    h.pos = 4;
    uint8_t major = r_u8(&h);
    if (major != 1) {
        fprintf(stderr, "sim: the learner speaks protocol version %u; this simulator speaks 1\n", major);
        exit(1);
    }
    h.pos = 6;
    c->reply_type = r_u16(&h);
    uint32_t flags = r_u32(&h);
    uint32_t request_id = r_u32(&h);
    uint32_t length = r_u32(&h);
    uint32_t checksum = r_u32(&h);
    if ((size_t)length != c->reply_len - HEADER_SIZE) fail("reply length disagrees with its header");
    if (checksum != frame_crc(c->reply, c->reply_len)) fail("reply checksum mismatch");
    if (flags & 0xFFFF) fail("reply sets a must-understand flag this simulator does not know");
    if (request_id != c->request_id) fail("reply answers another request");

    Reader r = { c->reply, c->reply_len, HEADER_SIZE, 0 };
    if (c->reply_type == ERROR) {
        uint16_t code = r_u16(&r);
        r_u16(&r);
        r_u32(&r);
        char text[1025];
        r_str(&r, text, sizeof text);
        fprintf(stderr, "sim: learner answered ERROR %u: %s\n", code, text);
        exit(1);
    }
    return r;
}

static Writer *begin(Conn *c, uint16_t type) {
    frame_begin(&c->out, type, ++c->request_id);
    return &c->out;
}

static void expect_ack(Conn *c, uint16_t acked) {
    Reader r = round_trip(c);
    if (c->reply_type != ACK || r_u16(&r) != acked || r.bad) fail("expected an ACK");
}

/* A rank-1 float32 box space; an unbounded dimension would be sent as +-FLT_MAX (section 4.1). */
static void w_space(Writer *w, uint32_t n, const float *low, const float *high) {
    w_u8(w, DTYPE_F32);
    w_u8(w, 1);
    w_u32(w, n);
    for (uint32_t i = 0; i < n; i++) w_f32(w, low[i]);
    for (uint32_t i = 0; i < n; i++) w_f32(w, high[i]);
}

static void hello(Conn *c, uint64_t run_id, const char *token) {
    /* Pendulum-v1's spaces, so a learner set up for Pendulum-v1 welcomes this simulator. */
    static const float obs_low[OBS_DIM] = { -1.0f, -1.0f, -8.0f }, obs_high[OBS_DIM] = { 1.0f, 1.0f, 8.0f };
    static const float act_low[ACT_DIM] = { -2.0f }, act_high[ACT_DIM] = { 2.0f };
    Writer *w = begin(c, HELLO);
    w_u8(w, ROLE_SIMULATOR);
    w_u8(w, 1); w_u8(w, 0); /* min version 1.0 */
    w_u8(w, 1); w_u8(w, 0); /* max version 1.0 */
    w_u32(w, 0);            /* capabilities */
    w_u32(w, 0);            /* actor_id: simulators have none */
    w_u64(w, run_id);
    w_str(w, "meow-c-sim");
    w_str(w, "0.1.0");
    w_str(w, token);        /* bytes: same layout as str */
    w_str(w, "Pendulum-v1");
    w_space(w, OBS_DIM, obs_low, obs_high);
    w_space(w, ACT_DIM, act_low, act_high);
    Reader r = round_trip(c);
    if (c->reply_type == REFUSED) {
        uint16_t code = r_u16(&r);
        r_u32(&r);
        uint8_t v[4] = { r_u8(&r), r_u8(&r), r_u8(&r), r_u8(&r) };
        char text[1025];
        r_str(&r, text, sizeof text);
        fprintf(stderr, "sim: learner refused (code %u; it speaks %u.%u to %u.%u): %s\n",
                code, v[0], v[1], v[2], v[3], text);
        exit(2);
    }
    if (c->reply_type != WELCOME) fail("expected WELCOME");
    uint8_t major = r_u8(&r), minor = r_u8(&r);
    if (r.bad || major != 1 || minor != 0) fail("WELCOME chose a version this simulator does not speak");
}

/* ---- the pendulum (Gymnasium's Pendulum-v1 equations) ---- */

static const double PI = 3.14159265358979323846;

/* libm would be one more library; these are exact enough for a simulator and need none. */
static double floor_of(double x) {
    double t = (double)(long long)x;
    return t > x ? t - 1.0 : t;
}

/* x wrapped into [-pi, pi). */
static double wrap_angle(double x) {
    return x - 2.0 * PI * floor_of((x + PI) / (2.0 * PI));
}

/* Taylor series on [-pi, pi]: the terms fall below 1e-17 after about 15 of them. */
static double sine(double x) {
    x = wrap_angle(x);
    double term = x, sum = x;
    for (int k = 1; k < 30 && (term > 1e-17 || term < -1e-17); k++) {
        term *= -x * x / ((2.0 * k) * (2.0 * k + 1.0));
        sum += term;
    }
    return sum;
}

static double cosine(double x) { return sine(x + PI / 2.0); }

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

typedef struct {
    uint64_t id, seed;
    double theta, theta_dot;
    double ret, began;
    uint32_t steps;
    float reward;   /* of the last step */
    uint8_t done;   /* done flags of the last step */
} Episode;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi) from the top 53 bits. */
static double uniform(uint64_t *s, double lo, double hi) {
    return lo + (hi - lo) * ((double)(splitmix64(s) >> 11) / 9007199254740992.0);
}

static void reset(Episode *e, uint64_t id, uint64_t seed) {
    uint64_t s = seed;
    memset(e, 0, sizeof *e);
    e->id = id;
    e->seed = seed;
    e->theta = uniform(&s, -PI, PI);
    e->theta_dot = uniform(&s, -1.0, 1.0);
    e->began = now_seconds();
}

static void observe(const Episode *e, float obs[OBS_DIM]) {
    obs[0] = (float)cosine(e->theta);
    obs[1] = (float)sine(e->theta);
    obs[2] = (float)e->theta_dot;
}

static void step(Episode *e, float action) {
    const double g = 10.0, dt = 0.05;
    double u = clamp(MAX_TORQUE * (double)action, -MAX_TORQUE, MAX_TORQUE); /* [-1, 1] -> [-2, 2] */
    double th = wrap_angle(e->theta);
    double cost = th * th + 0.1 * e->theta_dot * e->theta_dot + 0.001 * u * u;
    e->theta_dot = clamp(e->theta_dot + (3.0 * g / 2.0 * sine(e->theta) + 3.0 * u) * dt, -MAX_SPEED, MAX_SPEED);
    e->theta += e->theta_dot * dt;
    e->reward = (float)-cost;
    e->ret += -cost;
    e->steps++;
    e->done = e->steps >= MAX_STEPS ? DONE_TRUNCATED : 0; /* a pendulum never terminates */
}

/* One row of an ACTION_REQUEST, kept until the columns are written. */
typedef struct {
    uint64_t id;
    float obs[OBS_DIM];
    float reward;
    uint8_t event, done;
} Row;

static Row row_of(const Episode *e, uint8_t event) {
    Row r = { e->id, { 0 }, event == EV_START ? 0.0f : e->reward, event, event == EV_END ? e->done : 0 };
    observe(e, r.obs);
    return r;
}

/* Sends the rows (columnar, as section 5.13 lays them out) and returns the last row's action. */
static float request_actions(Conn *c, const Row *rows, uint32_t n) {
    Writer *w = begin(c, ACTION_REQUEST);
    w_u32(w, 0); /* flags */
    w_u32(w, n);
    w_u32(w, OBS_DIM);
    w_u32(w, ACT_DIM);
    for (uint32_t i = 0; i < n; i++) w_u64(w, rows[i].id);
    for (uint32_t i = 0; i < n; i++)
        for (int k = 0; k < OBS_DIM; k++) w_f32(w, rows[i].obs[k]);
    for (uint32_t i = 0; i < n; i++) w_f32(w, rows[i].reward);
    for (uint32_t i = 0; i < n; i++) w_u8(w, rows[i].event);
    for (uint32_t i = 0; i < n; i++) w_u8(w, rows[i].done);
    Reader r = round_trip(c);
    if (c->reply_type != ACTION_REPLY) fail("expected ACTION_REPLY");
    r_u64(&r); /* policy_version */
    uint32_t count = r_u32(&r), action_dim = r_u32(&r);
    r_u32(&r); /* flags */
    if (r.bad || count != n || action_dim != ACT_DIM) fail("ACTION_REPLY has the wrong shape");
    float action = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        float a = r_f32(&r);
        if (!(a >= -1.0f && a <= 1.0f)) fail("ACTION_REPLY holds an action outside [-1, 1]");
        action = a;
    }
    if (r.bad) fail("ACTION_REPLY is truncated");
    return action;
}

static void episode_stats(Conn *c, uint64_t run_id, const Episode *e) {
    Writer *w = begin(c, EPISODE_STATS);
    w_u32(w, 0); /* actor_id */
    w_u32(w, 1); /* count */
    w_u64(w, run_id);
    w_u64(w, e->id);
    w_u64(w, e->seed);
    w_f64(w, e->ret);
    w_f64(w, now_seconds() - e->began);
    w_u32(w, e->steps);
    expect_ack(c, EPISODE_STATS);
}

static uint64_t random_run_id(void) {
    uint64_t id = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&id, sizeof id, 1, f) != 1) id = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (f) fclose(f);
    return id;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: %s URL [episodes [seed [token]]]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    long episodes = argc > 2 ? strtol(argv[2], NULL, 10) : 5;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
    const char *token = argc > 4 ? argv[4] : "";
    if (episodes < 1) { fprintf(stderr, "sim: episodes must be at least 1\n"); return 2; }
    crc_init();

    Conn c = { .url = url };
    int rv = nng_req0_open(&c.sock);
    if (rv == 0) rv = nng_socket_set_ms(c.sock, NNG_OPT_RECVTIMEO, TIMEOUT_MS);
    if (rv == 0) rv = nng_socket_set_ms(c.sock, NNG_OPT_SENDTIMEO, TIMEOUT_MS);
    /* nng allocates a claimed message length before reading it: cap it (plus the REQ header). */
    if (rv == 0) rv = nng_socket_set_size(c.sock, NNG_OPT_RECVMAXSZ, (size_t)MAX_FRAME + 4);
    if (rv == 0) rv = nng_dial(c.sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) { fprintf(stderr, "sim: cannot dial %s: %s\n", url, nng_strerror(rv)); return 1; }

    uint64_t run_id = random_run_id();
    hello(&c, run_id, token);

    Episode e;
    Row rows[2];
    uint64_t next_id = (run_id & 0xFFFFFFFF00000000ull) | 1;
    reset(&e, next_id++, seed);
    rows[0] = row_of(&e, EV_START);
    float action = request_actions(&c, rows, 1);
    for (long done_episodes = 0;;) {
        step(&e, action);
        if (!e.done) {
            rows[0] = row_of(&e, EV_STEP);
            action = request_actions(&c, rows, 1);
            continue;
        }
        /* END with the real final observation; the next episode's START rides along. */
        Episode ended = e;
        rows[0] = row_of(&ended, EV_END);
        uint32_t n = 1;
        done_episodes++;
        if (done_episodes < episodes) {
            reset(&e, next_id++, seed + (uint64_t)done_episodes);
            rows[n++] = row_of(&e, EV_START);
        }
        action = request_actions(&c, rows, n);
        episode_stats(&c, run_id, &ended);
        printf("episode %ld: return %.3f, length %" PRIu32 ", seed %" PRIu64 ", %s\n", done_episodes,
               ended.ret, ended.steps, ended.seed, (ended.done & DONE_TERMINATED) ? "terminated" : "truncated");
        if (done_episodes == episodes) break;
    }

    Writer *w = begin(&c, GOODBYE);
    w_u16(w, 0); /* reason: done */
    w_str(w, "");
    expect_ack(&c, GOODBYE);
    printf("done: %ld episodes\n", episodes);
    if (c.reply) nng_free(c.reply, c.reply_len);
    free(c.out.p);
    nng_close(c.sock);
    return 0;
}
