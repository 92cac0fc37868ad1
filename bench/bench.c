/* ssl-session benchmark: the same loops against the system libssl and against
 * libssl_session, loaded side by side in one process; prints ns/op and libssl/ours.
 *
 * Usage: bench PATH/TO/libssl_session.so [iterations-scale]
 *
 * Loading order matters and mirrors real use. libssl is opened first with RTLD_LOCAL and
 * RTLD_NOW, so its own internal calls stay bound to its own definitions. ours is opened
 * RTLD_GLOBAL, as it is when an application links it (-lssl_session) or preloads it: its
 * CRYPTO_get_ex_new_index is then the process's definition, which lets it skip libcrypto's
 * ex_data bookkeeping while no session ex_data index exists (see src/exdata.rs).
 * Set BENCH_OURS_LOCAL=1 to open ours RTLD_LOCAL instead and see the cost of that path. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ssl_session_st SSL_SESSION;

struct lib {
    const char *name;
    void *h;
    SSL_SESSION *(*new_)(void);
    SSL_SESSION *(*dup)(const SSL_SESSION *);
    int (*up_ref)(SSL_SESSION *);
    void (*free_)(SSL_SESSION *);
    int (*set1_hostname)(SSL_SESSION *, const char *);
    int (*set1_alpn_selected)(SSL_SESSION *, const unsigned char *, size_t);
    int (*set1_ticket_appdata)(SSL_SESSION *, const void *, size_t);
    int (*set1_master_key)(SSL_SESSION *, const unsigned char *, size_t);
    int (*set1_id)(SSL_SESSION *, const unsigned char *, unsigned int);
    int (*set_protocol_version)(SSL_SESSION *, int);
    int (*set_ex_data)(SSL_SESSION *, int, void *);
    int (*i2d)(const SSL_SESSION *, unsigned char **);
    SSL_SESSION *(*d2i)(SSL_SESSION **, const unsigned char **, long);
};

static void *sym(void *h, const char *n)
{
    void *p = dlsym(h, n);
    if (!p) {
        fprintf(stderr, "bench: %s: %s\n", n, dlerror());
        exit(1);
    }
    return p;
}

static void load(struct lib *l, const char *name, const char *path, int flags)
{
    l->name = name;
    l->h = dlopen(path, flags);
    if (!l->h) {
        fprintf(stderr, "bench: dlopen %s: %s\n", path, dlerror());
        exit(1);
    }
    l->new_ = sym(l->h, "SSL_SESSION_new");
    l->dup = sym(l->h, "SSL_SESSION_dup");
    l->up_ref = sym(l->h, "SSL_SESSION_up_ref");
    l->free_ = sym(l->h, "SSL_SESSION_free");
    l->set1_hostname = sym(l->h, "SSL_SESSION_set1_hostname");
    l->set1_alpn_selected = sym(l->h, "SSL_SESSION_set1_alpn_selected");
    l->set1_ticket_appdata = sym(l->h, "SSL_SESSION_set1_ticket_appdata");
    l->set1_master_key = sym(l->h, "SSL_SESSION_set1_master_key");
    l->set1_id = sym(l->h, "SSL_SESSION_set1_id");
    l->set_protocol_version = sym(l->h, "SSL_SESSION_set_protocol_version");
    l->set_ex_data = sym(l->h, "SSL_SESSION_set_ex_data");
    l->i2d = sym(l->h, "i2d_SSL_SESSION");
    l->d2i = sym(l->h, "d2i_SSL_SESSION");
}

/* Session files (DER) the benchmarks decode: a real TLS 1.2 client session with its
 * ticket and the server's certificate (contract sample S1), and the same without the
 * certificate. */
static unsigned char with_cert[4096], without_cert[4096];
static long with_cert_len, without_cert_len;

static long slurp(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench: cannot open %s (run from the repository root)\n", path);
        exit(1);
    }
    long n = (long)fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static long scale = 1;

/* One timed run of n iterations, in ns per iteration. main() alternates runs of the two
 * libraries and keeps each one's best, so both see the same machine conditions (this is
 * a 2-CPU VM: background noise comes and goes within seconds). */
#define TIME(n, body)                                         \
    ({                                                        \
        double t0 = now_ns();                                 \
        for (long i = 0; i < (n); i++) { body; }              \
        (now_ns() - t0) / (double)(n);                        \
    })

static double b_new_free(struct lib *l)
{
    return TIME(200000 * scale, l->free_(l->new_()));
}

static double b_upref_free(struct lib *l)
{
    SSL_SESSION *s = l->new_();
    double r = TIME(2000000 * scale, (l->up_ref(s), l->free_(s)));
    l->free_(s);
    return r;
}

struct thr { struct lib *l; SSL_SESSION *s; long n; int cpu; };

static void *upref_worker(void *arg)
{
    struct thr *t = arg;
    /* Pinned to different CPUs, so the threads really contend (unpinned, the scheduler
     * sometimes runs them one after the other and the figure means nothing). */
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(t->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    for (long i = 0; i < t->n; i++) {
        t->l->up_ref(t->s);
        t->l->free_(t->s);
    }
    return NULL;
}

/* Two threads hammer one session; ns per up_ref+free pair, wall time / pairs per thread. */
static double b_upref_free_2threads(struct lib *l)
{
    long n = 1000000 * scale;
    SSL_SESSION *s = l->new_();
    struct thr ta = { l, s, n, 0 }, tb = { l, s, n, 1 };
    pthread_t a, b;
    double t0 = now_ns();
    pthread_create(&a, NULL, upref_worker, &ta);
    pthread_create(&b, NULL, upref_worker, &tb);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    double r = (now_ns() - t0) / (double)n;
    l->free_(s);
    return r;
}

static double b_dup_free(struct lib *l)
{
    SSL_SESSION *s = l->new_();
    double r = TIME(200000 * scale, l->free_(l->dup(s)));
    l->free_(s);
    return r;
}

static int ex_idx = -1;

static int ex_dup(void *to, const void *from, void **from_d, int idx, long argl, void *argp)
{
    (void)to; (void)from; (void)from_d; (void)idx; (void)argl; (void)argp;
    return 1;
}

static void ex_free(void *parent, void *ptr, void *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
}

/* A session as a server cache holds it: TLS 1.3 secret and id, SNI, ALPN, ticket app
 * data, app data and one registered ex_data index with dup and free callbacks. */
static SSL_SESSION *populated(struct lib *l)
{
    static const unsigned char key[48] = { 1, 2, 3 }, id[32] = { 4, 5, 6 };
    /* The ticket can only come from DER: start from S1 without its certificate. */
    const unsigned char *p = without_cert;
    SSL_SESSION *s = l->d2i(NULL, &p, without_cert_len);
    l->set_protocol_version(s, 0x0304);
    l->set1_master_key(s, key, sizeof key);
    l->set1_id(s, id, sizeof id);
    l->set1_hostname(s, "www.example.com");
    l->set1_alpn_selected(s, (const unsigned char *)"h2", 2);
    l->set1_ticket_appdata(s, "application ticket data", 23);
    l->set_ex_data(s, 0, "app data");
    l->set_ex_data(s, ex_idx, "ex data");
    return s;
}

static double b_dup_free_full(struct lib *l)
{
    if (ex_idx < 0) {
        /* Registered (once, for the rest of the run) through the process's definition:
         * ours, which forwards to libcrypto's, so both libraries share libcrypto's
         * class-2 registry and both run the callbacks. */
        int (*get_ex_new_index)(int, long, void *, void *, void *, void *) =
            (int (*)(int, long, void *, void *, void *, void *))dlsym(RTLD_DEFAULT, "CRYPTO_get_ex_new_index");
        if (!get_ex_new_index) {
            fprintf(stderr, "bench: CRYPTO_get_ex_new_index not found\n");
            exit(1);
        }
        ex_idx = get_ex_new_index(2, 0, NULL, NULL, (void *)ex_dup, (void *)ex_free);
    }
    SSL_SESSION *s = populated(l);
    double r = TIME(200000 * scale, l->free_(l->dup(s)));
    l->free_(s);
    return r;
}

static double b_i2d(struct lib *l)
{
    const unsigned char *p = with_cert;
    SSL_SESSION *s = l->d2i(NULL, &p, with_cert_len);
    static unsigned char out[4096];
    double r = TIME(100000 * scale, ({ unsigned char *q = out; l->i2d(s, &q); }));
    l->free_(s);
    return r;
}

static double b_d2i_cert(struct lib *l)
{
    return TIME(2000 * scale, ({ const unsigned char *p = with_cert; l->free_(l->d2i(NULL, &p, with_cert_len)); }));
}

static double b_d2i_nocert(struct lib *l)
{
    return TIME(100000 * scale, ({ const unsigned char *p = without_cert; l->free_(l->d2i(NULL, &p, without_cert_len)); }));
}

struct bench { const char *name; double (*fn)(struct lib *); double target; };

int main(int argc, char **argv)
{
    struct lib real, ours;
    if (argc < 2) {
        fprintf(stderr, "usage: bench libssl_session.so [scale]\n");
        return 2;
    }
    if (argc > 2)
        scale = atol(argv[2]) > 0 ? atol(argv[2]) : 1;
    with_cert_len = slurp("bench/s1.der", with_cert, sizeof with_cert);
    without_cert_len = slurp("bench/s1_nocert.der", without_cert, sizeof without_cert);
    load(&real, "libssl", "libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    load(&ours, "ours", argv[1], RTLD_NOW | (getenv("BENCH_OURS_LOCAL") ? RTLD_LOCAL : RTLD_GLOBAL));

    /* Registered through the process's definition (ours, which forwards to libcrypto's):
     * both libraries share libcrypto's class-2 registry. */
    struct bench b[] = {
        { "new + free", b_new_free, 8 },
        { "up_ref + free, 1 thread", b_upref_free, 1 },
        { "up_ref + free, 2 threads, 1 session", b_upref_free_2threads, 0.8 },
        { "dup + free (new session)", b_dup_free, 4 },
        { "dup + free (populated session)", b_dup_free_full, 4 },
        { "i2d (1117-byte session)", b_i2d, 10 },
        { "d2i + free, with peer certificate", b_d2i_cert, 100 },
        { "d2i + free, without certificate", b_d2i_nocert, 10 },
    };
    int misses = 0;

    printf("%-40s %12s %12s %9s %8s\n", "operation", "libssl ns", "ours ns", "ratio", "target");
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        double o = 1e30, r = 1e30;
        for (int rep = 0; rep < 9; rep++) {
            double x = b[i].fn(&ours), y = b[i].fn(&real);
            o = x < o ? x : o;
            r = y < r ? y : r;
        }
        double ratio = r / o;
        int ok = ratio >= b[i].target;
        misses += !ok;
        printf("%-40s %12.1f %12.1f %8.2fx %7.1fx%s\n", b[i].name, r, o, ratio, b[i].target, ok ? "" : "  (below target)");
    }
    printf("ratio = libssl time / ours (higher is better); %d below target\n", misses);
    return 0;
}
