/* Every exported session function, called with a NULL session ("null") or with a freed
 * one ("freed", run with SSL_SESSION_MISUSE=warn): no crash, the error value from each,
 * and (freed) one report line per call on stderr. ssl-session only; built from our header
 * alone, plus libcrypto's BIO for the printers. */
#include "ssl.h"
#include <stdio.h>
#include <string.h>

typedef struct bio_method_st BIO_METHOD;
BIO *BIO_new(const BIO_METHOD *type);
const BIO_METHOD *BIO_s_mem(void);
int BIO_free(BIO *a);

#define SHOW(expr) printf("%-60s %ld\n", #expr, (long)(expr))
#define SHOWP(expr) printf("%-60s %s\n", #expr, (expr) == NULL ? "NULL" : "non-NULL")
#define CALL(expr) do { expr; printf("%-60s done\n", #expr); } while (0)

int main(int argc, char **argv)
{
    int freed = argc > 1 && strcmp(argv[1], "freed") == 0;
    SSL_SESSION *s = NULL;
    const unsigned char *p = (const unsigned char *)"x";
    const unsigned char *cp = NULL;
    unsigned char *up = NULL, buf[64];
    unsigned int n = 99;
    size_t len = 99;
    void *v = (void *)1;
    BIO *bio = BIO_new(BIO_s_mem());

    setvbuf(stdout, NULL, _IONBF, 0);
    if (freed) {
        s = SSL_SESSION_new();
        SSL_SESSION_free(s);
    }
    SHOW(SSL_SESSION_up_ref(s));
    SHOWP(SSL_SESSION_dup(s));
    SHOW(SSL_SESSION_get_time(s));
    SHOW(SSL_SESSION_set_time(s, 5));
    SHOW(SSL_SESSION_get_timeout(s));
    SHOW(SSL_SESSION_set_timeout(s, 5));
    SHOW(SSL_SESSION_get_protocol_version(s));
    SHOW(SSL_SESSION_set_protocol_version(s, 0x0304));
    SHOWP(SSL_SESSION_get0_cipher(s));
    SHOW(SSL_SESSION_set_cipher(s, NULL));
    SHOWP(SSL_SESSION_get0_hostname(s));
    SHOW(SSL_SESSION_set1_hostname(s, "h"));
    CALL(SSL_SESSION_get0_alpn_selected(s, &cp, &len));
    SHOW(len);
    SHOW(SSL_SESSION_set1_alpn_selected(s, p, 1));
    SHOWP(SSL_SESSION_get_id(s, &n));
    SHOW(n);
    SHOW(SSL_SESSION_set1_id(s, p, 1));
    SHOWP(SSL_SESSION_get0_id_context(s, &n));
    SHOW(SSL_SESSION_set1_id_context(s, p, 1));
    SHOW(SSL_SESSION_get_master_key(s, buf, sizeof buf));
    SHOW(SSL_SESSION_set1_master_key(s, p, 1));
    SHOW(SSL_SESSION_has_ticket(s));
    SHOW(SSL_SESSION_get_ticket_lifetime_hint(s));
    CALL(SSL_SESSION_get0_ticket(s, &cp, &len));
    SHOW(len);
    SHOW(SSL_SESSION_get_max_early_data(s));
    SHOW(SSL_SESSION_set_max_early_data(s, 5));
    SHOW(SSL_SESSION_get0_ticket_appdata(s, &v, &len));
    SHOWP(v);
    SHOW(SSL_SESSION_set1_ticket_appdata(s, p, 1));
    SHOWP(SSL_SESSION_get0_peer(s));
    SHOW(SSL_SESSION_get_compress_id(s));
    SHOW(SSL_SESSION_get_max_fragment_length(s));
    SHOW(SSL_SESSION_is_resumable(s));
    SHOW(SSL_SESSION_set_ex_data(s, 1, v));
    SHOWP(SSL_SESSION_get_ex_data(s, 1));
    SHOW(SSL_SESSION_print(bio, s));
    SHOW(SSL_SESSION_print_fp(stdout, s));
    SHOW(SSL_SESSION_print_keylog(bio, s));
    SHOW(i2d_SSL_SESSION(s, NULL));
    SHOW(i2d_SSL_SESSION(s, &up));
    SHOW(PEM_write_bio_SSL_SESSION(bio, s));
    SHOW(PEM_write_SSL_SESSION(stdout, s));
    if (freed) {
        /* d2i into a freed session: refused before anything is decoded. */
        static const unsigned char der[] = { 0x30, 0x0F, 0x02, 0x01, 0x01, 0x02, 0x02, 0x03, 0x04, 0x04,
                                             0x02, 0x13, 0x01, 0x04, 0x00, 0x04, 0x00 };
        const unsigned char *q = der;
        SSL_SESSION *a = s;
        SHOWP(d2i_SSL_SESSION(&a, &q, sizeof der));
        SHOW(q - der);
    } else {
        SHOWP(d2i_SSL_SESSION(NULL, NULL, 10));
        SHOWP(d2i_SSL_SESSION(NULL, &cp, 10));
        SHOWP(PEM_read_bio_SSL_SESSION(NULL, NULL, NULL, NULL));
        SHOWP(PEM_read_SSL_SESSION(NULL, NULL, NULL, NULL));
        SHOW(SSL_SESSION_print_fp(NULL, s));
        SHOW(SSL_SESSION_print(NULL, s));
        CALL(SSL_SESSION_free(s));
    }
    BIO_free(bio);
    printf("survived\n");
    return 0;
}
