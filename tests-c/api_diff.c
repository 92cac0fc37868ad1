/* Every SSL_SESSION accessor of OpenSSL 3.0: values, limits, return codes and the error
 * codes queued. Compiled once, linked against libssl and against ssl-session; the two
 * outputs must be identical. No pointers or clock values are printed. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void errors(const char *what)
{
    unsigned long e;
    printf("  errors after %s:", what);
    while ((e = ERR_get_error()) != 0)
        printf(" %08lX", e);
    printf("\n");
}

static void hex(const char *label, const unsigned char *p, size_t n)
{
    printf("  %s (%zu):", label, n);
    for (size_t i = 0; i < n; i++)
        printf("%02X", p[i]);
    printf("\n");
}

/* libssl's, when this program is linked against libssl; absent (NULL) otherwise. */
#pragma weak SSL_CIPHER_find
#pragma weak SSL_CTX_new
#pragma weak SSL_new
#pragma weak SSL_free
#pragma weak SSL_CTX_free
#pragma weak TLS_method

/* A cipher from libssl's table through SSL_CIPHER_find when libssl is there, else from
 * the session library's own table through d2i of a minimal session with that code. */
static const SSL_CIPHER *find(SSL *ssl, unsigned char a, unsigned char b)
{
    const unsigned char code[2] = { a, b };
    if (SSL_CIPHER_find != NULL)
        return SSL_CIPHER_find(ssl, code);
    unsigned char der[] = { 0x30, 0x0F, 0x02, 0x01, 0x01, 0x02, 0x02, 0x03, 0x04,
                            0x04, 0x02, a, b, 0x04, 0x00, 0x04, 0x00 };
    const unsigned char *p = der;
    SSL_SESSION *tmp = d2i_SSL_SESSION(NULL, &p, sizeof der);
    const SSL_CIPHER *c = tmp ? SSL_SESSION_get0_cipher(tmp) : NULL;
    SSL_SESSION_free(tmp);
    return c; /* static table entry: outlives the session */
}

static void show(const char *title, SSL_SESSION *s)
{
    unsigned int n;
    size_t len;
    const unsigned char *p;
    unsigned char buf[600];
    void *v;

    printf("%s\n", title);
    printf("  protocol %04X timeout %ld\n", SSL_SESSION_get_protocol_version(s), SSL_SESSION_get_timeout(s));
    const SSL_CIPHER *c = SSL_SESSION_get0_cipher(s);
    printf("  cipher %s\n", c ? SSL_CIPHER_get_name(c) : "(null)");
    p = SSL_SESSION_get_id(s, &n);
    hex("id", p, n);
    p = SSL_SESSION_get0_id_context(s, &n);
    hex("id ctx", p, n);
    len = SSL_SESSION_get_master_key(s, NULL, 0);
    printf("  master key length %zu\n", len);
    len = SSL_SESSION_get_master_key(s, buf, sizeof buf);
    hex("master key", buf, len);
    len = SSL_SESSION_get_master_key(s, buf, 5);
    hex("master key, 5-byte buffer", buf, len);
    const char *h = SSL_SESSION_get0_hostname(s);
    printf("  hostname %s%s%s\n", h ? "\"" : "", h ? h : "(null)", h ? "\"" : "");
    SSL_SESSION_get0_alpn_selected(s, &p, &len);
    printf("  alpn %s ", p ? "set" : "(null)");
    hex("", p ? p : (const unsigned char *)"", len);
    SSL_SESSION_get0_ticket(s, &p, &len);
    printf("  ticket %s len %zu has_ticket %d hint %lu\n", p ? "set" : "(null)", len, SSL_SESSION_has_ticket(s), SSL_SESSION_get_ticket_lifetime_hint(s));
    printf("  max early data %u\n", SSL_SESSION_get_max_early_data(s));
    printf("  appdata ret %d ", SSL_SESSION_get0_ticket_appdata(s, &v, &len));
    printf("%s ", v ? "set" : "(null)");
    hex("", v ? v : (const void *)"", len);
    printf("  peer %s compress %u max fragment %u resumable %d\n", SSL_SESSION_get0_peer(s) ? "set" : "(null)", SSL_SESSION_get_compress_id(s), SSL_SESSION_get_max_fragment_length(s), SSL_SESSION_is_resumable(s));
}

int main(void)
{
    SSL_CTX *ctx = SSL_CTX_new != NULL ? SSL_CTX_new(TLS_method()) : NULL;
    SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    SSL_SESSION *s = SSL_SESSION_new();
    unsigned char big[600];
    unsigned int n;

    setvbuf(stdout, NULL, _IONBF, 0);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7 + 3);
    ERR_clear_error();

    long now = (long)time(NULL);
    long t = SSL_SESSION_get_time(s);
    printf("new: time is now %d\n", t >= now - 1 && t <= now + 1);
    show("fresh session", s);
    errors("fresh");

    printf("time and timeout\n");
    {
        long r = (long)SSL_SESSION_set_time(s, 1700000000);
        printf("  set_time(1700000000) -> %ld, get %ld\n", r, SSL_SESSION_get_time(s));
    }
    {
        long r = (long)SSL_SESSION_set_time(s, 0);
        printf("  set_time(0) -> %ld, get %ld\n", r, SSL_SESSION_get_time(s));
    }
    {
        long r = (long)SSL_SESSION_set_time(s, -100);
        printf("  set_time(-100) -> %ld, get %ld\n", r, SSL_SESSION_get_time(s));
    }
    {
        long r = (long)SSL_SESSION_set_timeout(s, 7200);
        printf("  set_timeout(7200) -> %ld, get %ld\n", r, SSL_SESSION_get_timeout(s));
    }
    {
        long r = (long)SSL_SESSION_set_timeout(s, -5);
        printf("  set_timeout(-5) -> %ld, get %ld\n", r, SSL_SESSION_get_timeout(s));
    }
    {
        long r = (long)SSL_SESSION_set_timeout(s, 0);
        printf("  set_timeout(0) -> %ld, get %ld\n", r, SSL_SESSION_get_timeout(s));
    }
    {
        long r = (long)SSL_SESSION_set_timeout(s, 0x7fffffffffffffffL);
        printf("  set_timeout(LONG_MAX) -> %ld, get %ld\n", r, SSL_SESSION_get_timeout(s));
    }
    printf("  SSL_get_time macro %ld\n", SSL_get_time(s));
    errors("time");

    printf("protocol version\n");
    int versions[] = { 0x0304, 0x0303, 0x0100, 0xFEFD, 0x1234, -1 };
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        int r = SSL_SESSION_set_protocol_version(s, versions[i]);
        printf("  set %X -> %d, get %X\n", versions[i], r, SSL_SESSION_get_protocol_version(s));
    }

    printf("cipher\n");
    const SSL_CIPHER *c = find(ssl, 0x13, 0x01);
    printf("  set 1301 -> %d\n", SSL_SESSION_set_cipher(s, c));
    c = SSL_SESSION_get0_cipher(s);
    printf("  get0 %s id %08X\n", SSL_CIPHER_get_name(c), (unsigned)SSL_CIPHER_get_id(c));
    printf("  set C02F -> %d\n", SSL_SESSION_set_cipher(s, find(ssl, 0xC0, 0x2F)));
    c = SSL_SESSION_get0_cipher(s);
    printf("  get0 %s std %s bits %d\n", SSL_CIPHER_get_name(c), SSL_CIPHER_standard_name(c), SSL_CIPHER_get_bits(c, NULL));
    {
        long r = (long)SSL_SESSION_set_cipher(s, NULL);
        printf("  set NULL -> %ld, get0 is NULL %d\n", r, SSL_SESSION_get0_cipher(s) == NULL);
    }
    SSL_SESSION_set_cipher(s, find(ssl, 0x13, 0x02));

    printf("session id\n");
    printf("  set 0 bytes (NULL) -> %d\n", SSL_SESSION_set1_id(s, NULL, 0));
    printf("  set 32 -> %d\n", SSL_SESSION_set1_id(s, big, 32));
    errors("set1_id 32");
    printf("  set 33 -> %d\n", SSL_SESSION_set1_id(s, big + 1, 33));
    errors("set1_id 33");
    SSL_SESSION_get_id(s, &n);
    printf("  length after failed set %u\n", n);
    const unsigned char *own = SSL_SESSION_get_id(s, &n);
    printf("  set own buffer, shorter -> %d\n", SSL_SESSION_set1_id(s, own, 10));
    printf("  resumable with an id %d\n", SSL_SESSION_is_resumable(s));

    printf("session id context\n");
    printf("  set 0 (NULL) -> %d\n", SSL_SESSION_set1_id_context(s, NULL, 0));
    printf("  set 32 -> %d\n", SSL_SESSION_set1_id_context(s, big + 5, 32));
    printf("  set 33 -> %d\n", SSL_SESSION_set1_id_context(s, big, 33));
    errors("set1_id_context 33");
    own = SSL_SESSION_get0_id_context(s, &n);
    printf("  set own buffer -> %d\n", SSL_SESSION_set1_id_context(s, own, 7));

    printf("master key\n");
    printf("  set 0 (NULL) -> %d\n", SSL_SESSION_set1_master_key(s, NULL, 0));
    printf("  set 48 -> %d\n", SSL_SESSION_set1_master_key(s, big, 48));
    printf("  set 512 -> %d\n", SSL_SESSION_set1_master_key(s, big + 9, 512));
    printf("  set 513 -> %d\n", SSL_SESSION_set1_master_key(s, big, 513));
    errors("set1_master_key 513");
    printf("  length %zu\n", SSL_SESSION_get_master_key(s, NULL, 0));
    printf("  set 1 -> %d\n", SSL_SESSION_set1_master_key(s, big + 100, 1));

    printf("hostname\n");
    printf("  set \"example.com\" -> %d\n", SSL_SESSION_set1_hostname(s, "example.com"));
    {
        long r = (long)SSL_SESSION_set1_hostname(s, "");
        printf("  set \"\" -> %ld, get \"%s\"\n", r, SSL_SESSION_get0_hostname(s));
    }
    printf("  set long -> %d\n", SSL_SESSION_set1_hostname(s, "a-rather-long-host-name.subdomain.example.org"));
    printf("  get \"%s\"\n", SSL_SESSION_get0_hostname(s));
    {
        long r = (long)SSL_SESSION_set1_hostname(s, NULL);
        printf("  set NULL -> %ld, get is NULL %d\n", r, SSL_SESSION_get0_hostname(s) == NULL);
    }
    SSL_SESSION_set1_hostname(s, "www.example.com");

    printf("alpn\n");
    printf("  set h2 -> %d\n", SSL_SESSION_set1_alpn_selected(s, (const unsigned char *)"h2", 2));
    printf("  set NULL,5 -> %d\n", SSL_SESSION_set1_alpn_selected(s, NULL, 5));
    show("  after clear", s);
    printf("  set h2,0 -> %d\n", SSL_SESSION_set1_alpn_selected(s, (const unsigned char *)"h2", 0));
    printf("  set 40 bytes -> %d\n", SSL_SESSION_set1_alpn_selected(s, big, 40));

    printf("max early data\n");
    {
        long r = (long)SSL_SESSION_set_max_early_data(s, 16384);
        printf("  set 16384 -> %ld, get %u\n", r, SSL_SESSION_get_max_early_data(s));
    }
    {
        long r = (long)SSL_SESSION_set_max_early_data(s, 0xFFFFFFFFu);
        printf("  set max -> %ld, get %u\n", r, SSL_SESSION_get_max_early_data(s));
    }

    printf("ticket appdata\n");
    printf("  set 7 -> %d\n", SSL_SESSION_set1_ticket_appdata(s, "APPDATA", 7));
    printf("  set NULL,4 -> %d\n", SSL_SESSION_set1_ticket_appdata(s, NULL, 4));
    printf("  set x,0 -> %d\n", SSL_SESSION_set1_ticket_appdata(s, "x", 0));
    printf("  set 100 -> %d\n", SSL_SESSION_set1_ticket_appdata(s, big, 100));

    printf("ex_data without an index\n");
    {
        long r = (long)SSL_SESSION_set_ex_data(s, 0, "zero");
        printf("  set 0 -> %ld, get %s\n", r, (char *)SSL_SESSION_get_ex_data(s, 0));
    }
    {
        long r = (long)SSL_SESSION_set_ex_data(s, 9, "nine");
        printf("  set 9 -> %ld, get %s\n", r, (char *)SSL_SESSION_get_ex_data(s, 9));
    }
    printf("  get 8 is NULL %d, get 99 is NULL %d\n", SSL_SESSION_get_ex_data(s, 8) == NULL, SSL_SESSION_get_ex_data(s, 99) == NULL);
    printf("  set -1 with data -> %d\n", SSL_SESSION_set_ex_data(s, -1, "neg"));
    errors("set_ex_data -1");
    printf("  set -1 with NULL -> %d\n", SSL_SESSION_set_ex_data(s, -1, NULL));
    printf("  get -1 is NULL %d\n", SSL_SESSION_get_ex_data(s, -1) == NULL);
    {
        long r = (long)SSL_SESSION_set_app_data(s, "app");
        printf("  app data macro: %ld %s\n", r, (char *)SSL_SESSION_get_app_data(s));
    }
    SSL_SESSION *d = SSL_SESSION_dup(s);
    printf("  dup with values but no index -> %s\n", d ? "a copy" : "NULL");
    errors("dup");
    SSL_SESSION_free(d);

    show("populated session", s);
    errors("populated");

    printf("print\n");
    SSL_SESSION_set_time(s, 1700000000);
    SSL_SESSION_set_timeout(s, 300);
    SSL_SESSION_set_protocol_version(s, 0x0303);
    printf("  print_fp -> %d\n", SSL_SESSION_print_fp(stdout, s));
    BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);
    printf("  print_keylog -> %d\n", SSL_SESSION_print_keylog(out, s));
    printf("  print(NULL bio) -> %d, print(NULL) -> %d, keylog(NULL) -> %d\n", SSL_SESSION_print(NULL, s),
           SSL_SESSION_print(out, NULL), SSL_SESSION_print_keylog(out, NULL));
    SSL_SESSION *fresh = SSL_SESSION_new();
    SSL_SESSION_set_time(fresh, 5);
    printf("  fresh print -> %d\n", SSL_SESSION_print(out, fresh));
    printf("  fresh keylog -> %d\n", SSL_SESSION_print_keylog(out, fresh));
    SSL_SESSION_set_protocol_version(fresh, 0x0304);
    SSL_SESSION_set_cipher(fresh, find(ssl, 0x13, 0x03));
    SSL_SESSION_set1_master_key(fresh, big, 32);
    SSL_SESSION_set_max_early_data(fresh, 16384);
    SSL_SESSION_set_time(fresh, 0);
    SSL_SESSION_set_timeout(fresh, 0);
    printf("  TLS 1.3 print -> %d\n", SSL_SESSION_print(out, fresh));
    SSL_SESSION_free(fresh);
    BIO_free(out);
    errors("print");

    printf("dup\n");
    SSL_SESSION_set_ex_data(s, 0, NULL);
    SSL_SESSION *e = SSL_SESSION_new();
    SSL_SESSION_set_ex_data(e, 1, NULL);
    SSL_SESSION_free(e);
    int idx = SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    printf("  index %d\n", idx);
    d = SSL_SESSION_dup(s);
    show("  the copy", d);
    printf("  copy ex_data 0 %s, 9 is NULL %d\n", (char *)SSL_SESSION_get_ex_data(d, 0), SSL_SESSION_get_ex_data(d, 9) == NULL);
    printf("  up_ref copy -> %d\n", SSL_SESSION_up_ref(d));
    SSL_SESSION_set1_hostname(d, "changed.example");
    SSL_SESSION_set1_master_key(d, big, 3);
    printf("  source hostname after changing the copy: %s\n", SSL_SESSION_get0_hostname(s));
    printf("  source master key length %zu\n", SSL_SESSION_get_master_key(s, NULL, 0));
    SSL_SESSION_free(d);
    SSL_SESSION_free(d);
    errors("dup");

    printf("the SSL_SESSION_new defaults survive the others\n");
    SSL_SESSION *f = SSL_SESSION_new();
    printf("  timeout %ld protocol %d max fragment %u\n", SSL_SESSION_get_timeout(f), SSL_SESSION_get_protocol_version(f), SSL_SESSION_get_max_fragment_length(f));
    SSL_SESSION_free(f);

    SSL_SESSION_free(s);
    if (ctx != NULL) {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    errors("end");
    return 0;
}
