/* Lifecycle, observed through what OpenSSL defines: return values and ex_data callbacks.
 * Linked once against libssl and once against ssl-session; the outputs must be equal. */
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

static int idx_a, idx_b;
static int quiet;
static long n_new, n_dup, n_free;

static const char *who(void *parent);
static SSL_SESSION *names[8];
static int nnames;

static const char *who(void *parent)
{
    static char buf[16];
    /* Newest first: freed memory is reused, so an address may carry several names. */
    for (int i = nnames - 1; i >= 0; i--)
        if (names[i] == parent) {
            snprintf(buf, sizeof buf, "s%d", i);
            return buf;
        }
    return "(new object)";
}

static void on_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)ad; (void)argp;
    n_new++;
    if (!quiet)
        printf("  new  idx=%d argl=%ld ptr=%s\n", idx, argl, ptr ? "set" : "NULL");
}

static int on_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx, long argl, void *argp)
{
    (void)to; (void)from; (void)argp;
    n_dup++;
    if (!quiet)
        printf("  dup  idx=%d argl=%ld value=%s\n", idx, argl, *from_d ? (char *)*from_d : "NULL");
    if (*from_d != NULL && strcmp(*from_d, "replace-me") == 0)
        *from_d = "replaced";
    return 1;
}

static void on_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ad; (void)argp;
    n_free++;
    if (!quiet)
        printf("  free idx=%d argl=%ld parent=%s value=%s\n", idx, argl, who(parent), ptr ? (char *)ptr : "NULL");
}

static SSL_SESSION *named(SSL_SESSION *s)
{
    names[nnames++] = s;
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("free(NULL)\n");
    SSL_SESSION_free(NULL);

    printf("new before any index\n");
    SSL_SESSION *plain = named(SSL_SESSION_new());
    printf("  non-NULL: %d\n", plain != NULL);

    idx_a = SSL_SESSION_get_ex_new_index(11, NULL, on_new, on_dup, on_free);
    idx_b = SSL_SESSION_get_ex_new_index(22, NULL, NULL, NULL, on_free);
    printf("indexes %d %d\n", idx_a, idx_b);

    printf("free of a session made before the indexes\n");
    SSL_SESSION_free(plain);

    printf("new\n");
    SSL_SESSION *s = named(SSL_SESSION_new());
    printf("up_ref -> %d\n", SSL_SESSION_up_ref(s));
    printf("up_ref -> %d\n", SSL_SESSION_up_ref(s));
    printf("free (3 -> 2)\n");
    SSL_SESSION_free(s);
    printf("free (2 -> 1)\n");
    SSL_SESSION_free(s);

    printf("set ex_data: %d %d\n", SSL_SESSION_set_ex_data(s, idx_a, "replace-me"),
           SSL_SESSION_set_ex_data(s, idx_b, "bee"));
    printf("set app data: %d\n", SSL_SESSION_set_app_data(s, "app"));
    printf("dup\n");
    SSL_SESSION *d = named(SSL_SESSION_dup(s));
    printf("  distinct: %d\n", d != NULL && d != s);
    printf("  copy values: a=%s b=%s app=%s\n", (char *)SSL_SESSION_get_ex_data(d, idx_a),
           (char *)SSL_SESSION_get_ex_data(d, idx_b), (char *)SSL_SESSION_get_app_data(d));
    printf("  source values: a=%s b=%s\n", (char *)SSL_SESSION_get_ex_data(s, idx_a),
           (char *)SSL_SESSION_get_ex_data(s, idx_b));
    printf("up_ref dup -> %d\n", SSL_SESSION_up_ref(d));
    printf("free source (last reference)\n");
    SSL_SESSION_free(s);
    printf("free dup (2 -> 1)\n");
    SSL_SESSION_free(d);
    printf("free dup (last reference)\n");
    SSL_SESSION_free(d);

    printf("dup of a session with no ex_data set\n");
    SSL_SESSION *e = named(SSL_SESSION_new());
    SSL_SESSION *f = named(SSL_SESSION_dup(e));
    SSL_SESSION_free(e);
    SSL_SESSION_free(f);

    printf("1000 new/up_ref/dup/free rounds, callbacks counted\n");
    quiet = 1;
    n_new = n_dup = n_free = 0;
    int ok = 1;
    for (int i = 0; i < 1000; i++) {
        SSL_SESSION *x = SSL_SESSION_new();
        SSL_SESSION *y;
        ok &= x != NULL && SSL_SESSION_up_ref(x) == 1;
        y = SSL_SESSION_dup(x);
        ok &= y != NULL;
        SSL_SESSION_free(x);
        SSL_SESSION_free(y);
        SSL_SESSION_free(x);
    }
    printf("  all ok: %d; callbacks new=%ld dup=%ld free=%ld\n", ok, n_new, n_dup, n_free);
    return 0;
}
