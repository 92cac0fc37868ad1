/* Getters, setters, dup and ex_data on one session from several threads at once.
 * OpenSSL leaves this undefined (its getters and setters take no lock); ssl-session
 * guarantees no data race inside the library: every value read is one that some thread
 * wrote whole. Usage: threads_accessors [threads] [rounds] */
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SSL_SESSION *shared;
static long rounds = 20000;
static const char *hosts[] = { "a.example", "bb.example.org", "a-much-longer-host-name.example.net" };

static void *worker(void *arg)
{
    long id = (long)arg, bad = 0;
    unsigned char key[64], out[64], sid[32];
    for (long i = 0; i < rounds; i++) {
        int k = (int)((i + id) % 3);
        memset(key, 'a' + k, sizeof key);
        memset(sid, 'A' + k, sizeof sid);
        switch ((i + id) % 6) {
        case 0:
            SSL_SESSION_set1_hostname(shared, hosts[k]);
            break;
        case 1:
            SSL_SESSION_set1_master_key(shared, key, 16 + 16 * k);
            break;
        case 2:
            SSL_SESSION_set1_id(shared, sid, 8 * (k + 1));
            break;
        case 3:
            SSL_SESSION_set_time(shared, 1000 + k);
            SSL_SESSION_set1_alpn_selected(shared, (const unsigned char *)hosts[k], strlen(hosts[k]));
            break;
        case 4: {
            SSL_SESSION *d = SSL_SESSION_dup(shared);
            /* A dup is a snapshot: its own fields are whole values. */
            size_t n = SSL_SESSION_get_master_key(d, out, sizeof out);
            for (size_t j = 1; j < n; j++)
                bad += out[j] != out[0];
            SSL_SESSION_free(d);
            break;
        }
        default:
            SSL_SESSION_set_ex_data(shared, (int)(id % 4), (void *)hosts[k]);
            (void)SSL_SESSION_get_ex_data(shared, (int)(i % 4));
            break;
        }
        /* Reads: whole values only. */
        size_t n = SSL_SESSION_get_master_key(shared, out, sizeof out);
        bad += n != 0 && n != 16 && n != 32 && n != 48;
        long t = SSL_SESSION_get_time(shared);
        bad += t != 1000 && t != 1001 && t != 1002;
        SSL_SESSION_up_ref(shared);
        SSL_SESSION_free(shared);
    }
    return (void *)bad;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    pthread_t t[32];
    long bad = 0;
    if (argc > 2)
        rounds = atol(argv[2]);
    if (n < 1 || n > 32)
        return 2;
    shared = SSL_SESSION_new();
    SSL_SESSION_set_time(shared, 1000);
    for (long i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    printf("%d threads x %ld rounds: torn or impossible values seen: %ld\n", n, rounds, bad);
    SSL_SESSION_free(shared);
    return bad != 0;
}
