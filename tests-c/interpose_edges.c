/* Edge cases of the functions ssl-session interposes under LD_PRELOAD, built against
 * libssl; one case per run (argv[1]), run with and without the preload:
 *
 *   remove_last_ref  A session in an SSL_CTX's cache whose only reference is the cache's
 *                    is removed with SSL_CTX_remove_session: valid in OpenSSL (it marks
 *                    the session not resumable, then frees it); ours must not be written
 *                    after libssl dropped the copy that held it.
 *   setter_no_record A PSK callback set while libcrypto's allocations fail: under the
 *                    preload the setter cannot keep the callback and must say so (one
 *                    report line), never hand libssl the raw application callback. */
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail_allocs;

static void *my_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return fail_allocs ? NULL : malloc(n);
}

static void *my_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return fail_allocs ? NULL : realloc(p, n);
}

static void my_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    free(p);
}

static int use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                  SSL_SESSION **sess)
{
    (void)ssl, (void)md, (void)id, (void)idlen, (void)sess;
    return 0;
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!CRYPTO_set_mem_functions(my_malloc, my_realloc, my_free)) {
        printf("CRYPTO_set_mem_functions refused (allocations already made)\n");
        return 2;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = SSL_new(ctx);
    if (ctx == NULL || ssl == NULL)
        return 2;
    if (strcmp(c, "remove_last_ref") == 0) {
        const unsigned char suite[2] = {0xC0, 0x2F};
        unsigned char id[32], key[48];
        memset(id, 0x5A, sizeof id);
        memset(key, 0xA5, sizeof key);
        SSL_SESSION *s = SSL_SESSION_new();
        if (s == NULL || !SSL_SESSION_set1_id(s, id, sizeof id)
            || !SSL_SESSION_set1_master_key(s, key, sizeof key)
            || !SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, suite))
            || !SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION))
            return 2;
        int added = SSL_CTX_add_session(ctx, s);
        printf("add_session: %d, cache %ld\n", added, SSL_CTX_sess_number(ctx));
        SSL_SESSION_free(s); /* the cache's reference is now the only one */
        int removed = SSL_CTX_remove_session(ctx, s);
        printf("remove_session: %d, cache %ld\n", removed, SSL_CTX_sess_number(ctx));
    } else if (strcmp(c, "setter_no_record") == 0) {
        fail_allocs = 1;
        SSL_CTX_set_psk_use_session_callback(ctx, use_cb);
        fail_allocs = 0;
        printf("setter returned\n");
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    printf("done\n");
    return 0;
}
