/* Every SSL_CIPHER accessor's answer for every cipher libssl's SSL_CIPHER_find knows
 * (codes 0x0000..0xFFFF), and the answers for NULL where libssl does not crash. Built
 * against libssl and run twice, plainly and with ssl-session preloaded: then every
 * cipher is libssl's, so ours must forward each call (RTLD_NEXT), and the two outputs
 * must be identical. No pointers are printed.
 *
 * With argument "which": prints which library each accessor binds to. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

static const char *lib_of(void *fn)
{
    Dl_info info;
    const char *lib = "?";

    if (dladdr(fn, &info) && info.dli_fname) {
        lib = strrchr(info.dli_fname, '/');
        lib = lib ? lib + 1 : info.dli_fname;
    }
    return lib;
}

#define WHICH(f) printf("%s %s\n", #f, lib_of((void *)f))

static const char *str(const char *s)
{
    return s != NULL ? s : "<NULL>";
}

/* The description line without its newline, or <NULL>. */
static void put_line(const char *label, const char *s)
{
    if (s == NULL) {
        printf(" %s=<NULL>", label);
        return;
    }
    printf(" %s=[%.*s]%s", label, (int)strcspn(s, "\n"), s,
           s[strcspn(s, "\n")] == '\n' ? "\\n" : "");
}

static void show(const SSL_CIPHER *c)
{
    int alg = -7;
    int bits = SSL_CIPHER_get_bits(c, &alg);
    const EVP_MD *md = SSL_CIPHER_get_handshake_digest(c);
    char buf[256], small[256];
    char *heap;

    printf("%04X name=%s std=%s id=%08X pid=%04X bits=%d/%d", SSL_CIPHER_get_protocol_id(c),
           str(SSL_CIPHER_get_name(c)), str(SSL_CIPHER_standard_name(c)),
           (unsigned)SSL_CIPHER_get_id(c), SSL_CIPHER_get_protocol_id(c), bits, alg);
    printf(" bits_no_out=%d", SSL_CIPHER_get_bits(c, NULL));
    printf(" ver=%s aead=%d cipher=%d digest=%d kx=%d auth=%d hs=%d",
           str(SSL_CIPHER_get_version(c)), SSL_CIPHER_is_aead(c), SSL_CIPHER_get_cipher_nid(c),
           SSL_CIPHER_get_digest_nid(c), SSL_CIPHER_get_kx_nid(c), SSL_CIPHER_get_auth_nid(c),
           md != NULL ? EVP_MD_get_type(md) : -1);

    memset(buf, 'X', sizeof(buf));
    printf(" desc_ret_buf=%d", SSL_CIPHER_description(c, buf, 128) == buf);
    put_line("desc", buf);
    printf(" after_nul=%c", buf[strlen(buf) + 1]);

    heap = SSL_CIPHER_description(c, NULL, -1);
    printf(" heap_same=%d", heap != NULL && strcmp(heap, buf) == 0);
    OPENSSL_free(heap);

    memset(small, 'X', sizeof(small));
    printf(" desc127=%s small_untouched=%d", SSL_CIPHER_description(c, small, 127) ? "buf" : "NULL",
           small[0] == 'X');
    printf(" desc_neg=%s\n", SSL_CIPHER_description(c, small, -1) ? "buf" : "NULL");
}

int main(int argc, char **argv)
{
    SSL_CTX *ctx;
    SSL *ssl;
    int n = 0;

    if (argc > 1 && strcmp(argv[1], "which") == 0) {
        WHICH(SSL_CIPHER_get_name);
        WHICH(SSL_CIPHER_standard_name);
        WHICH(SSL_CIPHER_get_id);
        WHICH(SSL_CIPHER_get_protocol_id);
        WHICH(SSL_CIPHER_get_bits);
        WHICH(SSL_CIPHER_get_version);
        WHICH(SSL_CIPHER_description);
        WHICH(SSL_CIPHER_is_aead);
        WHICH(SSL_CIPHER_get_cipher_nid);
        WHICH(SSL_CIPHER_get_digest_nid);
        WHICH(SSL_CIPHER_get_kx_nid);
        WHICH(SSL_CIPHER_get_auth_nid);
        WHICH(SSL_CIPHER_get_handshake_digest);
        WHICH(SSL_CIPHER_find);
        return 0;
    }

    ctx = SSL_CTX_new(TLS_method());
    ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    if (ssl == NULL) {
        fprintf(stderr, "cannot create an SSL\n");
        return 1;
    }
    for (unsigned code = 0; code <= 0xFFFF; code++) {
        unsigned char b[2] = { (unsigned char)(code >> 8), (unsigned char)code };
        const SSL_CIPHER *c = SSL_CIPHER_find(ssl, b);

        if (c != NULL) {
            show(c);
            n++;
        }
    }
    printf("%d ciphers\n", n);

    /* NULL, where libssl answers rather than crashes. */
    {
        int alg = -7;
        char buf[256];

        printf("NULL name=%s std=%s ver=%s", str(SSL_CIPHER_get_name(NULL)),
               str(SSL_CIPHER_standard_name(NULL)), str(SSL_CIPHER_get_version(NULL)));
        printf(" bits=%d", SSL_CIPHER_get_bits(NULL, &alg));
        printf(" alg=%d bits_no_out=%d", alg, SSL_CIPHER_get_bits(NULL, NULL));
        printf(" cipher=%d", SSL_CIPHER_get_cipher_nid(NULL));
        printf(" desc127=%s\n", SSL_CIPHER_description(NULL, buf, 127) ? "buf" : "NULL");
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}
