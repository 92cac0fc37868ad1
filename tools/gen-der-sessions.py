#!/usr/bin/env python3
"""Random session DER for tests/der_corpus.rs (DER_EXTRA): mostly canonical DER, the shape
the d2i fast path reads, with random field values and lengths across the short/long-form
boundaries, plus some reordered, repeated or byte-mutated ones. One hex line per input.

Usage: tools/gen-der-sessions.py COUNT [SEED] > extra.hex
       DER_EXTRA=extra.hex cargo test --release --test der_corpus extra_inputs_match_libssl
"""
import random, sys
r = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
def ln(n):
    if n < 0x80: return bytes([n])
    if n < 0x100: return bytes([0x81, n])
    if n < 0x10000: return bytes([0x82, n >> 8, n & 0xFF])
    return bytes([0x83, n >> 16, (n >> 8) & 0xFF, n & 0xFF])
def tlv(t, c): return bytes([t]) + ln(len(c)) + c
def intc(v):
    n = 1
    while not (-(1 << (8*n-1)) <= v < (1 << (8*n-1))): n += 1
    return (v % (1 << (8*n))).to_bytes(n, 'big')
def rb(n): return bytes(r.getrandbits(8) for _ in range(n))
def rlen(mx):
    if r.random() < 0.15: return min(mx, r.choice([0,1,31,32,33,47,48,49,127,128,129,255,256,257,512,513]))
    return r.randint(0, min(mx, 64))
def rint(kind):
    if r.random() < 0.03: return rb(r.randint(0, 10))
    v = r.choice([0, 1, 2, -1, -2, r.randint(0, 300), -r.randint(0, 300), r.getrandbits(r.randint(1, 64)),
                  2**31-1, 2**31, 2**32-1, 2**32, 2**63-1, 2**63, 2**64-1, 2**64, -2**31, -2**31-1, -2**63, -2**63-1])
    if r.random() < 0.8:
        if kind == 'i32': v = (v + 2**31) % 2**32 - 2**31
        elif kind == 'u32': v %= 2**32
        elif kind == 'i64': v = (v + 2**63) % 2**64 - 2**63
        elif kind == 'u64': v %= 2**64
    return intc(v)
KIND = {1:'i64', 2:'i64', 5:'i32', 9:'u64', 13:'u64', 14:'u32', 15:'u32', 17:'u32', 19:'u32'}
CIPHERS = [b'\x13\x01', b'\x13\x02', b'\x13\x03', b'\xc0\x2f', b'\xc0\x30', b'\xc0\x2b', b'\x00\x9c', b'\xcc\xa8', b'\x00\x2f', b'\x00\xff', b'\x56\x00', b'\x00\x01']
def session():
    parts = [tlv(2, intc(1) if r.random() > 0.02 else rint('u32')),
             tlv(2, intc(r.choice([0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0xFEFF, 0xFEFD, 0x0100, 0x0200])) if r.random() > 0.02 else rint('i32')),
             tlv(4, r.choice(CIPHERS) if r.random() > 0.03 else rb(r.randint(0, 3))),
             tlv(4, rb(rlen(33))), tlv(4, rb(rlen(513)))]
    if r.random() < 0.05: parts.append(tlv(0x80, rb(r.randint(0, 20))))
    for t in range(1, 21):
        if r.random() > 0.4 or t == 3 or (t == 20 and r.random() > 0.1): continue
        if t in KIND: inner = tlv(2, rint(KIND[t]))
        else: inner = tlv(4, rb(r.randint(0, 2) if t == 11 else rlen(300)))
        parts.append(tlv(0xA0 | t, inner))
    x = r.random()
    if x < 0.03 and len(parts) > 6:
        i, j = r.sample(range(5, len(parts)), 2); parts[i], parts[j] = parts[j], parts[i]
    elif x < 0.06 and len(parts) > 5:
        i = r.randrange(5, len(parts)); parts.insert(i, parts[i])
    v = bytearray(tlv(0x30, b''.join(parts)))
    if r.random() < 0.15:
        for _ in range(r.randint(1, 3)):
            i = r.randrange(len(v))
            op = r.randrange(5)
            if op == 0: v[i] = r.getrandbits(8)
            elif op == 1: v[i] ^= 1 << r.randrange(8)
            elif op == 2: del v[i:]
            elif op == 3: v.insert(i, r.getrandbits(8))
            else: v += b'\x00\x00'
            if not v: break
    return bytes(v)
for _ in range(int(sys.argv[1])):
    print(session().hex())
