# Resumption with CPython's ssl module (its _ssl extension loads libssl.so.3 with
# dlopen(RTLD_LOCAL)): a loopback server thread and a client resuming with session=,
# over TLS 1.2 tickets, TLS 1.2 session IDs and TLS 1.3. Prints only what must be the
# same with and without ssl-session preloaded (clock values as checks, ids compared).
# Usage: python3 py_resume.py CERT KEY
import socket
import ssl
import sys
import threading
import time

CERT, KEY = sys.argv[1], sys.argv[2]
ROUNDS = 3


def contexts(version, no_ticket):
    s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    s.load_cert_chain(CERT, KEY)
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    for ctx in (s, c):
        ctx.minimum_version = ctx.maximum_version = version
        if no_ticket:
            ctx.options |= ssl.OP_NO_TICKET
    return s, c


def describe(sess, first, start):
    if sess is None:
        return "no session"
    now = time.time()
    return (
        f"id_len={len(sess.id)} same_id={sess.id == first.id if first else '-'} "
        f"time_ok={start - 2 <= sess.time <= now + 1} timeout={sess.timeout} "
        f"has_ticket={sess.has_ticket} hint={sess.ticket_lifetime_hint}"
    )


def flow(name, version, no_ticket):
    sctx, cctx = contexts(version, no_ticket)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(ROUNDS)
    lsock.settimeout(20)
    port = lsock.getsockname()[1]
    server_reused = []
    errors = []

    def serve():
        try:
            for _ in range(ROUNDS):
                conn, _ = lsock.accept()
                conn.settimeout(20)
                with sctx.wrap_socket(conn, server_side=True) as s:
                    s.sendall(s.recv(5))
                    server_reused.append(s.session_reused)
                    # A clean shutdown keeps the session in the server's cache.
                    s.unwrap()
        except Exception as e:  # reported by the main thread
            errors.append(repr(e))

    t = threading.Thread(target=serve)
    t.start()
    first = None
    sess = None
    start = time.time()
    print(f"== {name}")
    for i in range(ROUNDS):
        with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
            with cctx.wrap_socket(raw, session=sess) as s:
                s.sendall(b"hello")
                echo = s.recv(5)
                got = s.session
                print(
                    f"conn {i}: echo={echo!r} version={s.version()} cipher={s.cipher()} "
                    f"reused={s.session_reused}"
                )
                print(f"  session: {describe(got, first, start)}")
                s.unwrap()
                if first is None:
                    first = got
                    sess = got
    t.join(30)
    lsock.close()
    print(f"  server reused: {server_reused} errors: {errors}")
    st = sctx.session_stats()
    print(f"  server stats: hits={st['hits']} misses={st['misses']} accept={st['accept']}")


flow("TLS 1.2 tickets", ssl.TLSVersion.TLSv1_2, False)
flow("TLS 1.2 session IDs", ssl.TLSVersion.TLSv1_2, True)
flow("TLS 1.3", ssl.TLSVersion.TLSv1_3, False)
ctx = ssl.create_default_context()
for c in ctx.get_ciphers():
    print(sorted(c.items()))
