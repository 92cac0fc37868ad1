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
        /* The victim is freed, then n more sessions (argv[2], default 4095: the victim is
         * then the oldest of the last 4096 frees, which the quarantine promises to
         * remember). Then n + 1 new sessions are made and kept alive, as many as there are
         * freed slots: a library that reuses slots at once gives one of them the victim's
         * slot, and the victim's second free would then free that live session silently. */
        int n = argc > 2 ? atoi(argv[2]) : 4095;
        SSL_SESSION **fill = calloc((size_t)n + 1, sizeof(*fill));
        SSL_SESSION **keep = calloc((size_t)n + 1, sizeof(*keep));
        int reused = -1, alive = 0;
        for (int i = 0; i < n; i++)
            fill[i] = SSL_SESSION_new();
        SSL_SESSION_free(s);
        for (int i = 0; i < n; i++)
            SSL_SESSION_free(fill[i]);
        for (int i = 0; i <= n; i++) {
            keep[i] = SSL_SESSION_new();
            if (keep[i] == s)
                reused = i;
        }
        printf("%d frees after the victim; victim slot reused: %s\n", n, reused < 0 ? "no" : "yes");
        if (reused < 0)
            SSL_SESSION_free(s); /* the double free: must be reported */
        for (int i = 0; i <= n; i++) {
            alive += SSL_SESSION_up_ref(keep[i]);
            SSL_SESSION_free(keep[i]);
            SSL_SESSION_free(keep[i]);
        }
        printf("later sessions alive after it: %d of %d\n", alive, n + 1);
        free(fill);
        free(keep);
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    printf("survived\n");
    return 0;
}
