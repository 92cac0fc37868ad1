/* Misuse cases, one per run (argv[1]); ssl-session only. Built from our header alone
 * (header-only integration). The harness checks the signal and the stderr line, and in
 * warn mode (SSL_SESSION_MISUSE=warn) the return values printed here. */
#include "ssl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    SSL_SESSION *s = SSL_SESSION_new();
    static long not_a_session[64];
    SSL_SESSION *bogus = (SSL_SESSION *)not_a_session;

    setvbuf(stdout, NULL, _IONBF, 0);
    printf("victim %p\n", (void *)s);
    if (strcmp(c, "null") == 0) {
        SSL_SESSION_free(NULL);
        printf("up_ref(NULL) = %d\n", SSL_SESSION_up_ref(NULL));
        printf("dup(NULL) = %p\n", (void *)SSL_SESSION_dup(NULL));
        SSL_SESSION_free(s);
        printf("survived\n");
        return 0;
    }
    if (strcmp(c, "double_free") == 0) {
        SSL_SESSION_free(s);
        SSL_SESSION_free(s);
    } else if (strcmp(c, "up_ref_after_free") == 0) {
        SSL_SESSION_free(s);
        printf("up_ref = %d\n", SSL_SESSION_up_ref(s));
    } else if (strcmp(c, "dup_after_free") == 0) {
        SSL_SESSION_free(s);
        printf("dup = %p\n", (void *)SSL_SESSION_dup(s));
    } else if (strcmp(c, "free_after_refs") == 0) {
        /* Two references, three frees: the third is the double free. */
        SSL_SESSION_up_ref(s);
        SSL_SESSION_free(s);
        SSL_SESSION_free(s);
        SSL_SESSION_free(s);
    } else if (strcmp(c, "free_not_session") == 0) {
        SSL_SESSION_free(bogus);
        SSL_SESSION_free(s);
    } else if (strcmp(c, "up_ref_not_session") == 0) {
        printf("up_ref = %d\n", SSL_SESSION_up_ref(bogus));
        SSL_SESSION_free(s);
    } else if (strcmp(c, "dup_not_session") == 0) {
        printf("dup = %p\n", (void *)SSL_SESSION_dup(bogus));
        SSL_SESSION_free(s);
    } else if (strcmp(c, "free_interior_pointer") == 0) {
        SSL_SESSION_free((SSL_SESSION *)((char *)s + 8));
        SSL_SESSION_free(s);
    } else if (strcmp(c, "free_heap_pointer") == 0) {
        void *h = calloc(1, 512);
        SSL_SESSION_free((SSL_SESSION *)h);
        free(h);
        SSL_SESSION_free(s);
    } else if (strcmp(c, "quarantine") == 0) {
        /* The victim is freed, then 4095 more sessions come and go: the victim is still
         * among the last 4096 frees, so its second free must be caught. */
        SSL_SESSION_free(s);
        for (int i = 0; i < 4095; i++)
            SSL_SESSION_free(SSL_SESSION_new());
        SSL_SESSION_free(s);
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    printf("survived\n");
    return 0;
}
