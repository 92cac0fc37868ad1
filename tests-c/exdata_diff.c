/* Session ex_data in depth: callbacks that use CRYPTO_get/set_ex_data on the block they
 * are given, a dup callback that refuses, unregistered indexes, values beyond the
 * registered ones, d2i. Linked against libssl and against ssl-session; outputs equal. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

static int a, b, c;

static void on_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent;
    printf("  new  idx=%d argl=%ld argp=%s ptr=%s\n", idx, argl, (char *)argp, ptr ? (char *)ptr : "NULL");
    /* A new callback may fill its own slot, and see the others. */
    printf("    set own slot -> %d\n", CRYPTO_set_ex_data(ad, idx, "made-by-new"));
    printf("    slot 0 is %s\n", CRYPTO_get_ex_data(ad, 0) ? (char *)CRYPTO_get_ex_data(ad, 0) : "NULL");
}

static int on_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx, long argl, void *argp)
{
    (void)argp;
    const char *v = *from_d;
    printf("  dup  idx=%d argl=%ld value=%s from[%d]=%s to[%d]=%s\n", idx, argl, v ? v : "NULL", b,
           CRYPTO_get_ex_data(from, b) ? (char *)CRYPTO_get_ex_data(from, b) : "NULL", idx,
           CRYPTO_get_ex_data(to, idx) ? (char *)CRYPTO_get_ex_data(to, idx) : "NULL");
    if (v != NULL && strcmp(v, "refuse") == 0)
        return 0;
    *from_d = "copied-by-dup";
    return 1;
}

static void on_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent; (void)argp;
    printf("  free idx=%d argl=%ld value=%s slot7=%s\n", idx, argl, ptr ? (char *)ptr : "NULL",
           CRYPTO_get_ex_data(ad, 7) ? (char *)CRYPTO_get_ex_data(ad, 7) : "NULL");
}

static void errors(const char *what)
{
    unsigned long e;
    printf("  errors after %s:", what);
    while ((e = ERR_get_error()) != 0)
        printf(" %08lX", e);
    printf("\n");
}

static void values(const char *label, SSL_SESSION *s)
{
    printf("  %s:", label);
    for (int i = 0; i < 9; i++) {
        const char *v = SSL_SESSION_get_ex_data(s, i);
        printf(" %d=%s", i, v ? v : "-");
    }
    printf("\n");
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("register\n");
    a = SSL_SESSION_get_ex_new_index(1, "first", on_new, on_dup, on_free);
    b = SSL_SESSION_get_ex_new_index(2, "second", NULL, NULL, on_free);
    c = SSL_SESSION_get_ex_new_index(3, "third", on_new, on_dup, NULL);
    printf("  indexes %d %d %d\n", a, b, c);

    printf("new\n");
    SSL_SESSION *s = SSL_SESSION_new();
    values("after new", s);
    SSL_SESSION_set_ex_data(s, b, "bee");
    SSL_SESSION_set_ex_data(s, 7, "seven");
    SSL_SESSION_set_app_data(s, "app");
    values("after sets", s);

    printf("dup\n");
    SSL_SESSION *d = SSL_SESSION_dup(s);
    values("copy", d);
    values("source", s);

    printf("dup refused by a callback\n");
    SSL_SESSION_set_ex_data(s, c, "refuse");
    SSL_SESSION *r = SSL_SESSION_dup(s);
    printf("  result %s\n", r ? "a copy" : "NULL");
    errors("refused dup");

    printf("unregister index %d\n", b);
    printf("  CRYPTO_free_ex_index -> %d, again an unknown index -> %d\n", CRYPTO_free_ex_index(2, b),
           CRYPTO_free_ex_index(2, 99));
    errors("free_ex_index");

    printf("a fourth index after sessions exist\n");
    int e4 = SSL_SESSION_get_ex_new_index(4, "fourth", on_new, NULL, on_free);
    printf("  index %d\n", e4);

    printf("d2i makes a session: new callbacks\n");
    static const unsigned char der[] = { 0x30, 0x0F, 0x02, 0x01, 0x01, 0x02, 0x02, 0x03, 0x04, 0x04,
                                         0x02, 0x13, 0x01, 0x04, 0x00, 0x04, 0x00 };
    const unsigned char *p = der;
    SSL_SESSION *x = d2i_SSL_SESSION(NULL, &p, sizeof der);
    values("decoded", x);
    printf("d2i into an existing session keeps its ex_data\n");
    p = der;
    SSL_SESSION *y = d2i_SSL_SESSION(&d, &p, sizeof der);
    printf("  same object %d\n", y == d);
    values("reused", d);

    printf("negative and large indexes\n");
    printf("  set -1 -> %d\n", SSL_SESSION_set_ex_data(s, -1, "neg"));
    errors("set -1");
    printf("  set 40 -> %d\n", SSL_SESSION_set_ex_data(s, 40, "forty"));
    printf("  get 40 %s, get 39 %s\n", (char *)SSL_SESSION_get_ex_data(s, 40),
           SSL_SESSION_get_ex_data(s, 39) ? "set" : "NULL");

    printf("free source\n");
    SSL_SESSION_free(s);
    printf("free copy\n");
    SSL_SESSION_free(d);
    printf("free decoded\n");
    SSL_SESSION_free(x);
    errors("end");
    return 0;
}
