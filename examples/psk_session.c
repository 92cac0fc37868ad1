/* psk_session.c: build a TLS 1.3 external-PSK session file with the SSL_SESSION API.
 *
 * Build it with `make demo`, or by hand after `make`:
 *   cc examples/psk_session.c -Iinclude -Ltarget/release -Wl,-rpath,$PWD/target/release \
 *      -lssl_session -lcrypto -o psk_session
 *
 * usage: psk_session [-early_data N] KEY-HEX CIPHER [IDENTITY] > psk.pem
 *
 *   KEY-HEX   the pre-shared key in hex (at most 512 bytes, as SSL_SESSION_set1_master_key
 *             allows); for TLS 1.3 it is used as is, as the PSK.
 *   CIPHER    a TLS 1.3 suite, by OpenSSL name, standard name or 2-byte code in hex:
 *             TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, 0x1303, ... Its hash must be
 *             the one the server uses with this PSK (openssl s_server -psk uses SHA-256).
 *   IDENTITY  optional, at most 32 bytes: stored as the session ID, where an application's
 *             own SSL_psk_use_session_cb can fetch it (SSL_SESSION_get_id). OpenSSL's
 *             s_client does not read it: it sends the identity given with -psk_identity.
 *   -early_data N   allow N bytes of early data with this PSK (SSL_SESSION_set_max_early_data).
 *
 * The session is written with PEM_write_SSL_SESSION and works with
 *   openssl s_client -tls1_3 -psk_session psk.pem -psk_identity IDENTITY ...
 * against
 *   openssl s_server -tls1_3 -psk KEY-HEX -psk_identity IDENTITY ...
 *
 * The cipher without libssl: the SSL_CIPHER objects come from the session library's own
 * table, and the only way to reach them through OpenSSL's session API is a session. So
 * cipher_by_code() decodes a minimal DER session (version 1, TLS 1.3, the 2-byte cipher
 * code, an empty session ID and master key) and takes SSL_SESSION_get0_cipher of it: the
 * pointer is a static table entry that outlives the session, exactly as libssl's
 * SSL_CIPHER_find gives. A name is found by trying every 2-byte code (d2i refuses codes it
 * does not know, quietly) and comparing names. This also works against libssl. */
#include <openssl/crypto.h>

#include "ssl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS1_3_VERSION 0x0304 /* as in <openssl/prov_ssl.h> */

static const SSL_CIPHER *cipher_by_code(unsigned code)
{
    const unsigned char der[] = {
        0x30, 0x0F,                                       /* SEQUENCE, 15 bytes */
        0x02, 0x01, 0x01,                                 /* version 1 */
        0x02, 0x02, 0x03, 0x04,                           /* TLS 1.3 */
        0x04, 0x02, (unsigned char)(code >> 8), (unsigned char)code, /* cipher */
        0x04, 0x00,                                       /* session ID: empty */
        0x04, 0x00,                                       /* master key: empty */
    };
    const unsigned char *p = der;
    SSL_SESSION *tmp = d2i_SSL_SESSION(NULL, &p, sizeof der);
    const SSL_CIPHER *c = tmp != NULL ? SSL_SESSION_get0_cipher(tmp) : NULL;
    SSL_SESSION_free(tmp);
    return c; /* a static table entry: it outlives the session */
}

static const SSL_CIPHER *cipher_by_name(const char *name)
{
    char *end;
    unsigned long code = strtoul(name, &end, 16);
    if (*name != '\0' && *end == '\0' && code <= 0xFFFF)
        return cipher_by_code((unsigned)code);
    for (unsigned c = 0; c <= 0xFFFF; c++) {
        const SSL_CIPHER *cipher = cipher_by_code(c);
        if (cipher == NULL)
            continue;
        const char *std = SSL_CIPHER_standard_name(cipher);
        if (strcmp(SSL_CIPHER_get_name(cipher), name) == 0 ||
            (std != NULL && strcmp(std, name) == 0))
            return cipher;
    }
    return NULL;
}

/* Hex to bytes; returns the length, or -1 for anything that is not pairs of hex digits. */
static long unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        if (!isxdigit((unsigned char)hex[i]) || !isxdigit((unsigned char)hex[i + 1]))
            return -1;
        char byte[3] = { hex[i], hex[i + 1], 0 };
        out[i / 2] = (unsigned char)strtoul(byte, NULL, 16);
    }
    return (long)(n / 2);
}

static int usage(void)
{
    fprintf(stderr, "usage: psk_session [-early_data N] KEY-HEX CIPHER [IDENTITY] > psk.pem\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned long early = 0;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-early_data") == 0) {
        early = strtoul(argv[i + 1], NULL, 10);
        i += 2;
    }
    if (argc - i < 2 || argc - i > 3)
        return usage();

    unsigned char key[512];
    long key_len = unhex(argv[i], key, sizeof key);
    if (key_len <= 0) {
        fprintf(stderr, "psk_session: the key must be 1 to 512 bytes in hex\n");
        return 2;
    }
    const SSL_CIPHER *cipher = cipher_by_name(argv[i + 1]);
    if (cipher == NULL) {
        fprintf(stderr, "psk_session: unknown cipher %s\n", argv[i + 1]);
        return 2;
    }
    if (strcmp(SSL_CIPHER_get_version(cipher), "TLSv1.3") != 0) {
        fprintf(stderr, "psk_session: %s is not a TLS 1.3 suite\n", SSL_CIPHER_get_name(cipher));
        return 2;
    }
    const char *identity = argc - i == 3 ? argv[i + 2] : NULL;

    SSL_SESSION *s = SSL_SESSION_new();
    int ok = s != NULL && SSL_SESSION_set1_master_key(s, key, (size_t)key_len) &&
             SSL_SESSION_set_cipher(s, cipher) &&
             SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) &&
             (early == 0 || SSL_SESSION_set_max_early_data(s, (uint32_t)early)) &&
             (identity == NULL ||
              SSL_SESSION_set1_id(s, (const unsigned char *)identity, (unsigned)strlen(identity))) &&
             PEM_write_SSL_SESSION(stdout, s);
    OPENSSL_cleanse(key, sizeof key);
    SSL_SESSION_free(s);
    if (!ok) {
        fprintf(stderr, "psk_session: could not build the session%s\n",
                identity != NULL && strlen(identity) > 32 ? " (identity over 32 bytes)" : "");
        return 1;
    }
    return 0;
}
