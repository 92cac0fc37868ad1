/* Threads x rounds of up_ref/free pairs on one session, then the last free must really
 * free it: an ex_data free callback counts destructions. Linked against both libraries.
 * Usage: threads [nthreads] [rounds] */
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_int frees;
static SSL_SESSION *shared;
static long rounds = 500000;

static void on_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ptr; (void)ad; (void)idx; (void)argl; (void)argp;
    if (parent == shared)
        atomic_fetch_add(&frees, 1);
}

static void *worker(void *arg)
{
    long bad = 0;
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        if (SSL_SESSION_up_ref(shared) != 1)
            bad++;
        SSL_SESSION_free(shared);
    }
    return (void *)bad;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    pthread_t t[64];
    long bad = 0;

    if (argc > 2)
        rounds = atol(argv[2]);
    if (n < 1 || n > 64)
        return 2;
    SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, on_free);
    shared = SSL_SESSION_new();
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    printf("%d threads x %ld up_ref/free pairs: failed up_refs %ld, destroyed before last free %d\n",
           n, rounds, bad, atomic_load(&frees));
    SSL_SESSION_free(shared);
    printf("destroyed after last free %d\n", atomic_load(&frees));
    return bad != 0 || atomic_load(&frees) != 1;
}
