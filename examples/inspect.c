/* inspect.c: what an SSL session file holds, read through the SSL_SESSION API.
 *
 * Build it with `make demo` (which runs it on examples/sessions/), or by hand after `make`:
 *   cc examples/inspect.c -Iinclude -Ltarget/release -Wl,-rpath,$PWD/target/release \
 *      -lssl_session -lcrypto -o inspect
 * The same source also builds against OpenSSL's libssl (cc ... -lssl -lcrypto); the test
 * suite runs both builds over the same files and requires identical output.
 *
 * usage: inspect [-report | -text | -getters | -outform PEM|DER|NSS] file...
 *
 * Each file may be PEM ("-----BEGIN SSL SESSION PARAMETERS-----", read with
 * PEM_read_bio_SSL_SESSION) or DER (read with d2i_SSL_SESSION); PEM is assumed when the
 * file contains "-----BEGIN ".
 *   -report   (default) everything below, for each file, after a "== file" line: the
 *             verdict of the read (with the first and last queued error codes on failure),
 *             the bytes d2i consumed, the i2d re-encoding in hex, PEM_write output,
 *             SSL_SESSION_print and print_keylog output, every getter, and whether a dup
 *             and a decode of the re-encoding encode the same again.
 *   -text     only what SSL_SESSION_print writes: the text of `openssl sess_id -text -noout`.
 *   -getters  only the getters' values.
 *   -outform  write the session again, as `openssl sess_id -outform X` does: PEM
 *             (PEM_write_bio_SSL_SESSION), DER (i2d_SSL_SESSION) or NSS (print_keylog).
 * Exit status: 0 when every file was read (and written), 1 otherwise.
 *
 * The report never depends on the clock. d2i gives a session without a start time (or
 * with time 0) the current time; the report says so, checks that the time it got is now,
 * and then sets a fixed time (FIXED_TIME) before printing or encoding anything. Whether
 * the input had a time is read from the DER itself. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ssl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIXED_TIME 1600000000L

enum { S_LOAD = 1, S_DER = 2, S_PEM = 4, S_TEXT = 8, S_KEYLOG = 16, S_GETTERS = 32, S_DUP = 64 };
#define S_ALL (S_LOAD | S_DER | S_PEM | S_TEXT | S_KEYLOG | S_GETTERS | S_DUP)

static void hex_line(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02X", p[i]);
}

/* Hex, 32 bytes a line, each line indented. */
static void hex_block(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 32) {
        printf("    ");
        hex_line(p + i, n - i < 32 ? n - i : 32);
        printf("\n");
    }
}

/* Bytes as a quoted string, anything unprintable as \xNN. */
static void quoted(const unsigned char *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '"' && p[i] != '\\')
            putchar(p[i]);
        else
            printf("\\x%02X", p[i]);
    }
    putchar('"');
}

/* Copies what a memory BIO holds to stdout (as is: the text ends in its own newline). */
static void dump_bio(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    if (n > 0)
        fwrite(data, 1, (size_t)n, stdout);
}

static void errors(const char *what)
{
    unsigned long first = ERR_peek_error(), last = ERR_peek_last_error();
    if (first == 0)
        printf("%s: no error queued\n", what);
    else
        printf("%s: first error %08lX, last error %08lX\n", what, first, last);
    ERR_clear_error();
}

/* One DER header at p (at most n bytes): tag, content length (-1: indefinite), header
 * size. Returns 0 if it does not fit. */
static int header(const unsigned char *p, size_t n, int *tag, long *len, size_t *hlen)
{
    if (n < 2)
        return 0;
    *tag = p[0];
    if (p[1] < 0x80) {
        *len = p[1];
        *hlen = 2;
        return 1;
    }
    if (p[1] == 0x80) {
        *len = -1;
        *hlen = 2;
        return 1;
    }
    size_t k = p[1] & 0x7F;
    if (k > 4 || n < 2 + k)
        return 0;
    *len = 0;
    for (size_t i = 0; i < k; i++)
        *len = (*len << 8) | p[2 + i];
    *hlen = 2 + k;
    return 1;
}

/* Whether a session's DER (one that d2i accepted) carries a non-zero start time: an
 * element [1] (0xA1) holding a non-zero INTEGER. The elements before it (version, protocol,
 * cipher, session ID, master key, optional [0]) are primitive, so their lengths are
 * definite. */
static int der_has_time(const unsigned char *p, size_t n)
{
    int tag;
    long len;
    size_t h;
    if (!header(p, n, &tag, &len, &h) || tag != 0x30)
        return 0;
    size_t end = len < 0 ? n : h + (size_t)len, at = h;
    if (end > n)
        end = n;
    while (at < end) {
        if (!header(p + at, end - at, &tag, &len, &h))
            return 0;
        if (tag == 0xA1) {
            int itag;
            long ilen;
            size_t ih;
            const unsigned char *q = p + at + h;
            if (!header(q, end - at - h, &itag, &ilen, &ih) || itag != 0x02 || ilen <= 0)
                return 0;
            for (long i = 0; i < ilen && at + h + ih + (size_t)i < end; i++)
                if (q[ih + i] != 0)
                    return 1;
            return 0;
        }
        if (tag > 0xA1 || len < 0)
            return 0;
        at += h + (size_t)len;
    }
    return 0;
}

static int contains(const unsigned char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return 1;
    return 0;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf != NULL) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        unsigned char *bigger = realloc(buf, cap *= 2);
        if (bigger == NULL)
            free(buf);
        buf = bigger;
    }
    fclose(f);
    *n = len;
    return buf;
}

/* i2d into a new buffer (OPENSSL_free it); *len is i2d's return value. */
static unsigned char *encode(const SSL_SESSION *s, int *len)
{
    unsigned char *der = NULL;
    *len = i2d_SSL_SESSION(s, &der);
    return der;
}

static void getters(SSL_SESSION *s)
{
    unsigned int n;
    const unsigned char *p;
    size_t len;

    printf("  protocol version    0x%04X\n", (unsigned)SSL_SESSION_get_protocol_version(s));
    const SSL_CIPHER *c = SSL_SESSION_get0_cipher(s);
    if (c == NULL) {
        printf("  cipher              (none)\n");
    } else {
        const char *std = SSL_CIPHER_standard_name(c);
        printf("  cipher              %s, id 0x%08X, %s\n", SSL_CIPHER_get_name(c),
               (unsigned)SSL_CIPHER_get_id(c), std != NULL ? std : "(no standard name)");
    }
    p = SSL_SESSION_get_id(s, &n);
    printf("  session id          %u bytes ", n);
    hex_line(p, n);
    printf("\n");
    p = SSL_SESSION_get0_id_context(s, &n);
    printf("  session id context  %u bytes ", n);
    quoted(p, n);
    printf("\n");
    printf("  master key          %zu bytes\n", SSL_SESSION_get_master_key(s, NULL, 0));
    const char *host = SSL_SESSION_get0_hostname(s);
    printf("  hostname            ");
    if (host == NULL)
        printf("(none)");
    else
        quoted((const unsigned char *)host, strlen(host));
    printf("\n");
    SSL_SESSION_get0_alpn_selected(s, &p, &len);
    printf("  alpn                ");
    if (p == NULL)
        printf("(none)");
    else
        quoted(p, len);
    printf("\n");
    SSL_SESSION_get0_ticket(s, &p, &len);
    printf("  ticket              %s, %zu bytes, has_ticket %d, lifetime hint %lu\n",
           p == NULL ? "absent" : "present", len, SSL_SESSION_has_ticket(s),
           SSL_SESSION_get_ticket_lifetime_hint(s));
    printf("  max early data      %u\n", (unsigned)SSL_SESSION_get_max_early_data(s));
    void *app;
    SSL_SESSION_get0_ticket_appdata(s, &app, &len);
    printf("  ticket appdata      ");
    if (app == NULL)
        printf("(none)");
    else
        quoted(app, len);
    printf("\n");
    printf("  compress id         %u\n", SSL_SESSION_get_compress_id(s));
    printf("  max fragment length %u\n", (unsigned)SSL_SESSION_get_max_fragment_length(s));
    printf("  time, timeout       %ld, %ld\n", SSL_SESSION_get_time(s),
           SSL_SESSION_get_timeout(s));
    printf("  resumable           %d\n", SSL_SESSION_is_resumable(s));
    X509 *peer = SSL_SESSION_get0_peer(s);
    if (peer == NULL) {
        printf("  peer                (none)\n");
    } else {
        char name[256];
        X509_NAME_oneline(X509_get_subject_name(peer), name, sizeof name);
        printf("  peer                %s\n", name);
    }
}

/* Writes the session as `openssl sess_id -outform X` does. */
static int write_as(const char *form, const SSL_SESSION *s)
{
    if (strcmp(form, "DER") == 0) {
        int len;
        unsigned char *der = encode(s, &len);
        if (der == NULL || len <= 0)
            return 0;
        fwrite(der, 1, (size_t)len, stdout);
        OPENSSL_free(der);
        return 1;
    }
    BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);
    int ok = strcmp(form, "PEM") == 0 ? PEM_write_bio_SSL_SESSION(out, s)
                                      : SSL_SESSION_print_keylog(out, s);
    BIO_free(out);
    return ok;
}

static int inspect(const char *path, unsigned sections, const char *outform)
{
    int report = sections & S_LOAD;
    size_t n;
    unsigned char *input = read_file(path, &n);
    if (report)
        printf("== %s\n", path);
    if (input == NULL) {
        fprintf(report ? stdout : stderr, "cannot read %s\n", path);
        return 0;
    }

    /* The DER bytes: the file itself, or the body of its first PEM block. */
    const unsigned char *der = input;
    long der_len = (long)n;
    unsigned char *pem_body = NULL;
    int is_pem = contains(input, n, "-----BEGIN ");
    SSL_SESSION *s;
    ERR_clear_error();
    time_t before = time(NULL);
    if (is_pem) {
        BIO *in = BIO_new_mem_buf(input, (int)n);
        s = PEM_read_bio_SSL_SESSION(in, NULL, NULL, NULL);
        BIO_free(in);
    } else {
        const unsigned char *p = input;
        s = d2i_SSL_SESSION(NULL, &p, (long)n);
        der_len = (long)(p - input);
        if (report && s != NULL)
            printf("input: DER, %zu bytes; d2i_SSL_SESSION: ok, consumed %ld\n", n, der_len);
    }
    time_t after = time(NULL);
    if (s == NULL) {
        if (!report)
            fprintf(stderr, "inspect: %s: unable to load the session\n", path);
        else
            errors(is_pem ? "input: PEM; PEM_read_bio_SSL_SESSION: NULL"
                          : "input: DER; d2i_SSL_SESSION: NULL");
        free(input);
        return 0;
    }
    if (is_pem) {
        /* The DER that PEM_read_bio_SSL_SESSION decoded: the first block with its label. */
        char *name = NULL, *hdr = NULL;
        BIO *in = BIO_new_mem_buf(input, (int)n);
        der = NULL;
        while (PEM_read_bio(in, &name, &hdr, &pem_body, &der_len) == 1) {
            int found = strcmp(name, PEM_STRING_SSL_SESSION) == 0;
            OPENSSL_free(name);
            OPENSSL_free(hdr);
            if (found) {
                der = pem_body;
                break;
            }
            OPENSSL_free(pem_body);
            pem_body = NULL;
        }
        if (der == NULL)
            der_len = 0;
        BIO_free(in);
        if (report)
            printf("input: PEM, %zu bytes, %ld bytes of DER; PEM_read_bio_SSL_SESSION: ok\n",
                   n, der_len);
    }

    if (report) {
        errors("after the read");
        if (der != NULL && der_has_time(der, (size_t)der_len)) {
            printf("time: from the input\n");
        } else {
            long t = SSL_SESSION_get_time(s);
            printf("time: absent or 0 in the input; d2i set it to now: %s; set to %ld below\n",
                   t >= (long)before && t <= (long)after ? "yes" : "NO", FIXED_TIME);
            SSL_SESSION_set_time(s, FIXED_TIME);
        }
    }

    int ok = 1;
    if (outform != NULL)
        ok = write_as(outform, s);

    int len = 0;
    unsigned char *enc = NULL;
    if (sections & (S_DER | S_DUP))
        enc = encode(s, &len);
    if (sections & S_DER) {
        int same = der != NULL && enc != NULL && (long)len == der_len &&
                   memcmp(enc, der, (size_t)len) == 0;
        printf("i2d_SSL_SESSION: %d; the same bytes as the input: %s\n", len,
               same ? "yes" : "no");
        if (enc != NULL)
            hex_block(enc, (size_t)len);
    }
    if (sections & S_PEM) {
        BIO *b = BIO_new(BIO_s_mem());
        printf("PEM_write_bio_SSL_SESSION: %d\n", PEM_write_bio_SSL_SESSION(b, s));
        dump_bio(b);
        BIO_free(b);
    }
    if (sections & S_TEXT) {
        BIO *b = BIO_new(BIO_s_mem());
        int r = SSL_SESSION_print(b, s);
        if (report)
            printf("SSL_SESSION_print: %d\n", r);
        dump_bio(b);
        BIO_free(b);
        ok &= r == 1;
    }
    if (sections & S_KEYLOG) {
        BIO *b = BIO_new(BIO_s_mem());
        printf("SSL_SESSION_print_keylog: %d\n", SSL_SESSION_print_keylog(b, s));
        dump_bio(b);
        BIO_free(b);
    }
    if (sections & S_GETTERS) {
        if (report)
            printf("getters:\n");
        getters(s);
    }
    if (sections & S_DUP) {
        SSL_SESSION *d = SSL_SESSION_dup(s);
        int dlen = 0;
        unsigned char *denc = d != NULL ? encode(d, &dlen) : NULL;
        if (d == NULL)
            printf("SSL_SESSION_dup: NULL\n");
        else if (dlen == len && (len <= 0 || memcmp(denc, enc, (size_t)len) == 0))
            printf("SSL_SESSION_dup: i2d of the copy is the same\n");
        else {
            printf("SSL_SESSION_dup: i2d of the copy differs (%d bytes):\n", dlen);
            if (denc != NULL)
                hex_block(denc, (size_t)dlen);
        }
        OPENSSL_free(denc);
        SSL_SESSION_free(d);

        /* Decode the re-encoding: it must encode the same again. */
        if (enc != NULL && len > 0) {
            const unsigned char *p = enc;
            SSL_SESSION *again = d2i_SSL_SESSION(NULL, &p, len);
            int alen = 0;
            unsigned char *aenc = again != NULL ? encode(again, &alen) : NULL;
            printf("d2i of the re-encoding: %s\n",
                   again == NULL                                           ? "NULL"
                   : alen == len && memcmp(aenc, enc, (size_t)len) == 0 ? "encodes the same"
                                                                          : "encodes differently");
            OPENSSL_free(aenc);
            SSL_SESSION_free(again);
        }
    }
    if (report)
        errors("at the end");
    OPENSSL_free(enc);
    OPENSSL_free(pem_body);
    SSL_SESSION_free(s);
    free(input);
    return ok;
}

static int usage(void)
{
    fprintf(stderr, "usage: inspect [-report | -text | -getters | -outform PEM|DER|NSS] file...\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned sections = 0;
    const char *outform = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-report") == 0)
            sections |= S_ALL;
        else if (strcmp(argv[i], "-text") == 0)
            sections |= S_TEXT;
        else if (strcmp(argv[i], "-getters") == 0)
            sections |= S_GETTERS;
        else if (strcmp(argv[i], "-outform") == 0 && i + 1 < argc &&
                 (strcmp(argv[i + 1], "PEM") == 0 || strcmp(argv[i + 1], "DER") == 0 ||
                  strcmp(argv[i + 1], "NSS") == 0))
            outform = argv[++i];
        else
            return usage();
    }
    if (i == argc)
        return usage();
    if (sections == 0 && outform == NULL)
        sections = S_ALL;
    int ok = 1;
    for (; i < argc; i++)
        ok &= inspect(argv[i], sections, outform);
    return ok ? 0 : 1;
}
